package ssh

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// connect connects with opts and closes the client when the test ends.
func connect(t *testing.T, opts Options) *Client {
	t.Helper()
	c, err := Connect(context.Background(), opts)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// run runs command and fails the test on a transport error.
func run(t *testing.T, c *Client, command string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	status, err := c.Run(context.Background(), Cmd{Command: command, Stdout: &out, Stderr: &errOut})
	if err != nil {
		t.Fatalf("Run(%q): %v", command, err)
	}
	return status, out.String(), errOut.String()
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // despite the umask
		t.Fatal(err)
	}
}
