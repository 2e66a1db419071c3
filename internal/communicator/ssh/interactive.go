package ssh

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/term"
)

// TerminalChallenge answers keyboard-interactive challenges from the
// user's terminal, as Packer does for ssh_bastion_interactive: standard
// input when it is a terminal, /dev/tty otherwise. The server's
// instruction and questions are shown there; answers to questions the
// server marks as not echoed are read with echo off.
func TerminalChallenge() gossh.KeyboardInteractiveChallenge {
	return func(name, instruction string, questions []string, echos []bool) ([]string, error) {
		if len(questions) == 0 {
			return nil, nil
		}
		tty := os.Stdin
		if !term.IsTerminal(int(tty.Fd())) {
			f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
			if err != nil {
				return nil, fmt.Errorf("keyboard-interactive authentication needs a terminal: %w", err)
			}
			defer f.Close()
			tty = f
		}
		out := io.Writer(tty)
		if tty == os.Stdin {
			out = os.Stderr
		}
		in := bufio.NewReader(tty)
		readLine := func(echo bool) (string, error) {
			if !echo {
				b, err := term.ReadPassword(int(tty.Fd()))
				fmt.Fprintln(out)
				return string(b), err
			}
			line, err := in.ReadString('\n')
			return strings.TrimRight(line, "\r\n"), err
		}
		return answer(out, readLine, name, instruction, questions, echos)
	}
}

// answer shows the challenge on out and reads one answer per question.
func answer(out io.Writer, readLine func(echo bool) (string, error), name, instruction string, questions []string, echos []bool) ([]string, error) {
	for _, s := range []string{name, instruction} {
		if s != "" {
			fmt.Fprintln(out, s)
		}
	}
	answers := make([]string, len(questions))
	for i, q := range questions {
		fmt.Fprint(out, q)
		a, err := readLine(i < len(echos) && echos[i])
		if err != nil {
			return nil, fmt.Errorf("read answer to keyboard-interactive question %q: %w", q, err)
		}
		answers[i] = a
	}
	return answers, nil
}
