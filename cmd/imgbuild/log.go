package main

import (
	"io"
	"os"

	"github.com/hashicorp/go-hclog"
)

// newLogger returns the developer log: silent unless IMGBUILD_LOG names a
// level (trace, debug, info, warn, error; any other non-empty value means
// debug). Logs go to stderr, or to IMGBUILD_LOG_PATH when set.
func newLogger(e *env) (hclog.Logger, func() error) {
	level := e.getenv("IMGBUILD_LOG")
	if level == "" {
		return hclog.NewNullLogger(), func() error { return nil }
	}
	lvl := hclog.LevelFromString(level)
	if lvl == hclog.NoLevel {
		lvl = hclog.Debug
	}
	var out io.Writer = e.stderr
	closer := func() error { return nil }
	if p := e.getenv("IMGBUILD_LOG_PATH"); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err == nil {
			out, closer = f, f.Close
		}
	}
	return hclog.New(&hclog.LoggerOptions{Name: "imgbuild", Level: lvl, Output: &maskingWriter{w: out, e: e}}), closer
}

// maskingWriter keeps secrets out of the log.
type maskingWriter struct {
	w io.Writer
	e *env
}

func (m *maskingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(m.w, m.e.ui.Masker().Mask(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
