package ssh

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/provision"
)

// scpTransfer moves files by running the scp program on the remote side
// in sink ("scp -t") or source ("scp -f") mode and speaking the scp
// protocol to it. Each operation uses its own session.
type scpTransfer struct{ client *gossh.Client }

func (t scpTransfer) upload(ctx context.Context, dst string, r io.Reader, mode fs.FileMode) error {
	size, r, cleanup, err := sized(r)
	if err != nil {
		return err
	}
	defer cleanup()
	cmd := "scp -p -t -- " + shellQuote(path.Dir(dst))
	return t.run(ctx, cmd, func(w io.Writer, rd *bufio.Reader) error {
		s := &scpSender{w: w, r: rd}
		if err := s.ack(); err != nil {
			return err
		}
		return s.writeFile(path.Base(dst), mode.Perm(), size, r)
	})
}

func (t scpTransfer) uploadTree(ctx context.Context, dst, src string, contentsOnly bool) error {
	cmd := fmt.Sprintf("mkdir -p -- %s && scp -r -p -d -t -- %[1]s", shellQuote(dst))
	return t.run(ctx, cmd, func(w io.Writer, rd *bufio.Reader) error {
		s := &scpSender{w: w, r: rd, contentsOnly: contentsOnly}
		if err := s.ack(); err != nil {
			return err
		}
		return walkLocal(ctx, src, s)
	})
}

func (t scpTransfer) download(ctx context.Context, src string, w io.Writer) error {
	return t.run(ctx, "scp -f -- "+shellQuote(src), func(ackW io.Writer, rd *bufio.Reader) error {
		sink := &singleFile{w: w}
		if err := scpReceive(rd, ackW, sink); err != nil {
			return err
		}
		if !sink.done {
			return fmt.Errorf("remote scp sent no file")
		}
		return nil
	})
}

func (t scpTransfer) downloadTree(ctx context.Context, src, dst string, contentsOnly bool) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	tree := &localTree{root: dst, contentsOnly: contentsOnly}
	return t.run(ctx, "scp -r -f -- "+shellQuote(src), func(ackW io.Writer, rd *bufio.Reader) error {
		return scpReceive(rd, ackW, tree)
	})
}

// run starts command and lets speak talk to it over its stdin and stdout.
// Errors include what the remote scp wrote to stderr.
func (t scpTransfer) run(ctx context.Context, command string, speak func(io.Writer, *bufio.Reader) error) error {
	sess, err := t.client.NewSession()
	if err != nil {
		return err
	}
	defer sess.Close()
	stdin, err := sess.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr provision.TailBuffer
	sess.Stderr = &stderr
	if err := sess.Start(command); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	defer stop()
	if err := speak(stdin, bufio.NewReader(stdout)); err != nil {
		sess.Close() // the remote may be blocked writing; don't wait for it
		sess.Wait()
		return fmt.Errorf("%w%s", err, stderrSuffix(&stderr))
	}
	stdin.Close()
	if err := sess.Wait(); err != nil {
		return fmt.Errorf("remote scp: %w%s", err, stderrSuffix(&stderr))
	}
	return nil
}

// scpSender is the source side of the scp protocol, talking to a remote
// "scp -t". With contentsOnly the top directory's own D/E records are not
// sent, so its entries land directly in the remote target.
type scpSender struct {
	w            io.Writer
	r            *bufio.Reader
	contentsOnly bool
	depth        int
}

// ack reads the remote side's response to the last record.
func (s *scpSender) ack() error { return readAck(s.r) }

func (s *scpSender) send(record string) error {
	if _, err := io.WriteString(s.w, record); err != nil {
		return err
	}
	return s.ack()
}

func (s *scpSender) enterDir(name string, mode fs.FileMode) error {
	s.depth++
	if s.depth == 1 && s.contentsOnly {
		return nil
	}
	if err := checkName(name); err != nil {
		return err
	}
	return s.send(fmt.Sprintf("D%04o 0 %s\n", mode.Perm(), name))
}

func (s *scpSender) leaveDir() error {
	s.depth--
	if s.depth == 0 && s.contentsOnly {
		return nil
	}
	return s.send("E\n")
}

func (s *scpSender) writeFile(name string, mode fs.FileMode, size int64, r io.Reader) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := s.send(fmt.Sprintf("C%04o %d %s\n", mode.Perm(), size, name)); err != nil {
		return err
	}
	if _, err := io.CopyN(s.w, r, size); err != nil {
		return fmt.Errorf("send %s: %w", name, err)
	}
	return s.send("\x00")
}

// readAck reads one scp response: 0 is success, 1 and 2 are followed by an
// error message line.
func readAck(r *bufio.Reader) error {
	b, err := r.ReadByte()
	if err != nil {
		return fmt.Errorf("read scp response: %w", err)
	}
	switch b {
	case 0:
		return nil
	case 1, 2:
		msg, _ := r.ReadString('\n')
		return fmt.Errorf("remote scp: %s", strings.TrimSpace(msg))
	}
	return fmt.Errorf("remote scp: unexpected response byte %q", b)
}

// scpReceive is the sink side of the scp protocol, reading from a remote
// "scp -f" and passing what it sends to tw.
func scpReceive(r *bufio.Reader, ackW io.Writer, tw treeWriter) error {
	ack := func() error { _, err := ackW.Write([]byte{0}); return err }
	if err := ack(); err != nil {
		return err
	}
	for {
		line, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) && line == "" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read scp record: %w", err)
		}
		if err := receiveRecord(line, r, tw, ack); err != nil {
			return err
		}
		if err := ack(); err != nil {
			return err
		}
	}
}

// receiveRecord handles one record line and, for a file, its content,
// which the source sends only after a first ack.
func receiveRecord(line string, r *bufio.Reader, tw treeWriter, ack func() error) error {
	switch line[0] {
	case 1, 2:
		return fmt.Errorf("remote scp: %s", strings.TrimSpace(line[1:]))
	case 'T':
		return nil
	case 'E':
		return tw.leaveDir()
	case 'D', 'C':
	default:
		return fmt.Errorf("unexpected scp record %q", strings.TrimSpace(line))
	}
	mode, size, name, err := parseRecord(line)
	if err != nil {
		return err
	}
	if line[0] == 'D' {
		return tw.enterDir(name, mode)
	}
	if err := ack(); err != nil {
		return err
	}
	content := io.LimitReader(r, size)
	if err := tw.writeFile(name, mode, size, content); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, content); err != nil {
		return err
	}
	return readAck(r) // the source ends each file with a status byte
}
