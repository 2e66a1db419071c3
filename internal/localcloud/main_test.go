package localcloud_test

import (
	"os"
	"testing"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestMain runs the tests with the clouds testenv starts sharing
// moto_servers (reset between clouds); the tests that start a cloud
// themselves (localcloud.Start) have their own.
func TestMain(m *testing.M) { os.Exit(testenv.RunWithMotoPool(m.Run)) }
