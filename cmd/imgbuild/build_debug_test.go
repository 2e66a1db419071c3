package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"golang.org/x/crypto/ssh"
)

// debugTemplate is a one-region Linux build with a shell provisioner that
// pauses after it ran (pause_after).
const debugTemplate = `
source "amazon-ebs" "al" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "debug-{{timestamp}}"
  source_ami_filter {
    filters = {
      name = "amzn2-ami-hvm-*-x86_64-gp2"
    }
    owners      = ["amazon"]
    most_recent = true
  }
}

build {
  sources = ["source.amazon-ebs.al"]
  provisioner "shell" {
    inline      = ["echo provisioned > proof.txt"]
    pause_after = "1s"
  }
}
`

// TestBuildDebug: with -debug (Packer's), the build stops after each step
// and before each cleanup until Enter is pressed; while it waits nothing
// else happens (the next step has not started); the temporary SSH key is
// saved as ec2_<build>.pem in the working directory, and logs in to the
// instance while the build pauses; cleanup removes it. The shell
// provisioner's pause_after is announced.
func TestBuildDebug(t *testing.T) {
	e := newE2E(t, "instant")
	e.write(map[string]string{"main.pkr.hcl": debugTemplate})
	cmd := e.command("build", "-debug", e.dir)
	cmd.Dir = e.dir
	stdin, err := cmd.StdinPipe()
	e.must(err)
	stdout, err := cmd.StdoutPipe()
	e.must(err)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	e.must(cmd.Start())

	keyFile := filepath.Join(e.dir, "ec2_amazon-ebs.al.pem")
	var out strings.Builder
	var runID string
	var pauses []string
	loggedIn := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if id, ok := strings.CutPrefix(line, "==> Run "); ok {
			runID, _, _ = strings.Cut(id, " ")
		}
		if !strings.Contains(line, "Press enter to continue.") {
			continue
		}
		pauses = append(pauses, line)
		switch {
		case strings.Contains(line, "after run of step 'create temporary key pair"):
			// The build waits: the instance is not launched yet.
			for _, r := range e.runResources("us-east-1", runID) {
				if strings.HasPrefix(r, "instance ") {
					t.Errorf("paused after the key pair, yet %s exists", r)
				}
			}
			if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("debug key %s: %v, %v; want a file of mode 0600", keyFile, fi, err)
			}
		case strings.Contains(line, "after run of step 'connect over SSH'"):
			loggedIn = e.loginWithDebugKey(runID, keyFile)
		}
		if _, err := io.WriteString(stdin, "\n"); err != nil {
			t.Fatalf("press enter: %v", err)
		}
	}
	err = cmd.Wait()
	stdin.Close()
	if err != nil {
		t.Fatalf("build -debug: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	o := out.String()
	for _, want := range []string{
		"Debug mode enabled. Builds will not be parallelized.",
		"saving key for debug purposes: ec2_amazon-ebs.al.pem",
		"Pausing 1s after this provisioner...",
		"Pausing before cleanup of step 'launch t3.micro instance and wait until running'. Press enter to continue.",
		"--> amazon-ebs.al: succeeded",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	if len(pauses) < 8 {
		t.Errorf("%d pauses, want one after each step and before each cleanup:\n%s", len(pauses), strings.Join(pauses, "\n"))
	}
	if !loggedIn {
		t.Errorf("never logged in with the debug key:\n%s", o)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Errorf("debug key %s left after cleanup: %v", keyFile, err)
	}
}

// loginWithDebugKey logs in to the run's instance with the key -debug
// saved and reads what the provisioner will write there; it reports
// whether it logged in.
func (e *e2e) loginWithDebugKey(runID, keyFile string) bool {
	t := e.t
	pemBytes, err := os.ReadFile(keyFile)
	if err != nil {
		t.Errorf("read the debug key: %v", err)
		return false
	}
	key, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Errorf("parse the debug key: %v", err)
		return false
	}
	desc, err := e.ec2("us-east-1").DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{})
	e.must(err)
	for _, r := range desc.Reservations {
		for _, in := range r.Instances {
			if in.State.Name != "running" || tagMap(in.Tags)["imgbuild:run-id"] != runID {
				continue
			}
			addr := net.JoinHostPort(aws.ToString(in.PublicIpAddress), "22")
			conn, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "ec2-user", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
				HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
			if err != nil {
				t.Errorf("ssh with the debug key to %s: %v", addr, err)
				return false
			}
			defer conn.Close()
			if got := sshOutput(t, conn, "id -un"); strings.TrimSpace(got) != "ec2-user" {
				t.Errorf("logged in as %q", got)
			}
			return true
		}
	}
	t.Errorf("no running instance of run %s", runID)
	return false
}

// TestLineInput: reads return the typed lines in order; a read given up
// for its context leaves the next line to the next read; the end of the
// input is io.EOF.
func TestLineInput(t *testing.T) {
	pr, pw := io.Pipe()
	in := newLineInput(pr)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := in.read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v", err)
	}
	go func() {
		io.WriteString(pw, "first\n\nthird\n")
		pw.Close()
	}()
	for _, want := range []string{"first", "", "third"} {
		if got, err := in.read(context.Background()); err != nil || got != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	if _, err := in.read(context.Background()); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
}
