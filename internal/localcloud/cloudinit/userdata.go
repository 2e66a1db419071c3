package cloudinit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
	"unicode"
)

// maxSize bounds what a gzip stream or a MIME part may expand to.
const maxSize = 32 << 20

// A part is one piece of user data after cloud-init's user data processing.
type part struct {
	typ   string // content type, from the first line where cloud-init looks there
	name  string // the part's file name, or part-NNN; empty for parts cloud-init does not attach
	data  []byte // decoded content
	merge string // Merge-Type header
}

// prefixes maps first lines to content types, longest first, as cloud-init's
// handlers.INCLUSION_TYPES_MAP.
var prefixes = []struct{ prefix, typ string }{
	{"#cloud-config-archive", "text/cloud-config-archive"},
	{"#cloud-config-jsonp", "text/cloud-config-jsonp"},
	{"## template: jinja", "text/jinja2"},
	{"#cloud-boothook", "text/cloud-boothook"},
	{"#include-once", "text/x-include-once-url"},
	{"#cloud-config", "text/cloud-config"},
	{"#part-handler", "text/part-handler"},
	{"#include", "text/x-include-url"},
	{"#!", "text/x-shellscript"},
}

// gzipTypes are the content types whose parts cloud-init decompresses.
var gzipTypes = map[string]bool{
	"application/gzip": true, "application/gzip-compressed": true, "application/gzipped": true,
	"application/x-compress": true, "application/x-compressed": true, "application/x-gunzip": true,
	"application/x-gzip": true, "application/x-gzip-compressed": true,
}

// splitter collects the parts of one user data blob.
type splitter struct {
	parts    []part
	attached int      // parts attached so far, for part-NNN names
	problems []string // MIME that could not be read (the parts before it are kept)
	fatal    string   // a failure that stops cloud-init before it runs anything
}

// split turns user data into parts as cloud-init's UserDataProcessor does.
func split(userData []byte) *splitter {
	s := &splitter{}
	if d, err := gunzip(userData); err == nil {
		userData = d
	}
	head := userData[:min(len(userData), 4096)]
	if !bytes.Contains(bytes.ToLower(head), []byte("mime-version:")) {
		s.add("text/x-not-multipart", "", "", userData)
		return s
	}
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(userData)))
	h, err := r.ReadMIMEHeader()
	if err != nil { // like Python's email parser: no headers, all body
		s.add("text/plain", "", "", userData)
		return s
	}
	s.entity(h, r.R, 0)
	return s
}

// entity adds the parts of one MIME entity.
func (s *splitter) entity(h textproto.MIMEHeader, body io.Reader, depth int) {
	typ, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if !strings.Contains(typ, "/") {
		typ = "text/plain"
	}
	if strings.HasPrefix(typ, "multipart/") {
		if depth > 10 {
			s.problems = append(s.problems, "MIME parts nested too deep: ignored")
			return
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				s.problems = append(s.problems, fmt.Sprintf("malformed MIME user data: %v", err))
				return
			}
			s.entity(p.Header, p, depth+1)
		}
	}
	raw, err := io.ReadAll(io.LimitReader(body, maxSize))
	if err != nil {
		s.problems = append(s.problems, fmt.Sprintf("malformed MIME user data: %v", err))
		return
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		if d, err := decodeBase64(string(raw), true); err == nil {
			raw = d
		}
	case "quoted-printable":
		if d, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw))); err == nil {
			raw = d
		}
	}
	name := ""
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		name = dp["filename"]
	}
	if name == "" {
		name = params["name"]
	}
	merge := h.Get("Merge-Type")
	if merge == "" {
		merge = h.Get("X-Merge-Type")
	}
	s.add(typ, name, merge, raw)
}

// add adds one part, decompressing it and finding its type as cloud-init does.
func (s *splitter) add(typ, filename, merge string, data []byte) {
	if gzipTypes[typ] {
		d, err := gunzip(data)
		if err != nil {
			s.fatal = fmt.Sprintf("failed decompressing a part of type %s: %v", typ, err)
			return
		}
		data, typ = d, "text/plain"
	}
	if typ == "text/plain" || typ == "text/x-not-multipart" || typ == "text/x-shellscript" {
		if t := typeOf(data); t != "" {
			typ = t
		}
	}
	p := part{typ: typ, data: data, merge: merge}
	switch typ {
	case "text/x-include-url", "text/x-include-once-url", "text/cloud-config-archive":
		// cloud-init expands these into other parts instead of attaching them.
	default:
		s.attached++
		if p.name = cleanFilename(filename); p.name == "" {
			p.name = fmt.Sprintf("part-%03d", s.attached)
		}
	}
	s.parts = append(s.parts, p)
}

// typeOf returns the content type that the first line of data announces, or "".
func typeOf(data []byte) string {
	s := bytes.TrimLeftFunc(data, unicode.IsSpace)
	s = bytes.ToLower(s[:min(len(s), 32)])
	for _, p := range prefixes {
		if bytes.HasPrefix(s, []byte(p.prefix)) {
			return p.typ
		}
	}
	return ""
}

// cleanFilename keeps the characters cloud-init's clean_filename keeps,
// turning slashes into underscores.
func cleanFilename(name string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case r == '/':
			return '_'
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.()", r)):
			return r
		}
		return -1
	}, name))
}

// gunzip decompresses a gzip stream of at most maxSize bytes.
func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxSize+1))
	if err == nil && len(out) > maxSize {
		err = fmt.Errorf("more than %d bytes", maxSize)
	}
	return out, err
}

// decodeBase64 decodes base64 as Python does without validation: characters
// outside the alphabet are dropped, and the data ends at the padding. With lenient, missing padding is fine
// (as in the email package); otherwise it is an error (as in b64decode).
func decodeBase64(s string, lenient bool) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("+/=", r)) {
			return r
		}
		return -1
	}, s)
	pad := 0
	if i := strings.IndexByte(s, '='); i >= 0 { // the data ends at the padding
		pad = len(s[i:]) - len(strings.TrimLeft(s[i:], "="))
		s = s[:i]
	}
	if !lenient && len(s)%4 != 0 && len(s)%4+pad < 4 {
		return nil, fmt.Errorf("incorrect padding")
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// dos2unix turns CRLF line ends into LF when the first line ends in CRLF.
func dos2unix(data []byte) []byte {
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		return bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	}
	return data
}
