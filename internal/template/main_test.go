package template_test

import (
	"os"
	"testing"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestMain runs the tests as for the local cloud: its EC2 endpoint is on
// loopback (testenv.WithLoopbackEndpoint).
func TestMain(m *testing.M) { os.Exit(testenv.WithLoopbackEndpoint(m.Run)) }
