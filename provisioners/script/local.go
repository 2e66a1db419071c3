package script

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
)

// Local is a script read on this machine, to upload to the instance.
type Local struct {
	Name string // for messages: "inline script" or the path as configured
	Base string // its file name, used when the remote path is a directory
	Body []byte
}

// Load reads the scripts of a prepared Source before the first one runs,
// so a missing file fails the provisioner before it changes the instance.
// The inline commands are one script, inlineBody, named inlineBase.
// Relative paths are relative to baseDir.
func (s *Source) Load(baseDir string, inlineBody []byte, inlineBase string) ([]Local, error) {
	if len(s.Inline) > 0 {
		return []Local{{Name: "inline script", Base: inlineBase, Body: inlineBody}}, nil
	}
	out := make([]Local, 0, len(s.Scripts))
	for _, p := range s.Scripts {
		body, err := os.ReadFile(check.Resolve(baseDir, p))
		if err != nil {
			return nil, fmt.Errorf("read script %s: %w", p, err)
		}
		out = append(out, Local{Name: p, Base: filepath.Base(p), Body: body})
	}
	return out, nil
}

// RemotePath returns where a script is uploaded on a Windows instance:
// with remote_path empty, a new name from pattern (its %s a random
// suffix), so scripts and builds never meet; remote_path ending in a
// slash is a directory the script keeps its own name in; any other
// remote_path is the file itself.
func RemotePath(remotePath, pattern string, sc Local) string {
	switch {
	case remotePath == "":
		return fmt.Sprintf(pattern, RandomUUID())
	case strings.HasSuffix(remotePath, "/") || strings.HasSuffix(remotePath, `\`):
		return remotePath + sc.Base
	default:
		return remotePath
	}
}

// RandomUUID returns a random (version 4) UUID, for file names: Packer's
// powershell provisioner names its default remote script
// script-<uuid>.ps1.
func RandomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (Go 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// RandomInt returns a random non-negative number below 1e9, for file
// names in Packer's script_<n>.sh form. (Packer draws n below 9999; the
// wider range keeps two provisioners of one build from meeting.)
func RandomInt() uint32 {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) % 1_000_000_000
}

// RandomHex returns n random bytes in hexadecimal, for file names.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (Go 1.24)
	return hex.EncodeToString(b)
}
