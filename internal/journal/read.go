package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Run is a run file replayed.
type Run struct {
	// Path is the run file.
	Path string
	// Header is the run's first record.
	Header Header
	// Resumed describes each process that took the run over with Resume,
	// oldest first.
	Resumed []Header
	// Accesses lists how each build reached AWS, in the order recorded
	// (see AccessOf); empty for runs written before format 2.
	Accesses []Access
	// Ended is true when the last process to write the run ended it with
	// Writer.End; Outcome is then what it recorded.
	Ended   bool
	Outcome string
	// Resources lists every resource the run recorded, in the order they
	// first appear, each with its State.
	Resources []Resource
	// TornTail is true when the file ends with an incomplete record, the
	// one being written when its writer stopped. It is ignored; Warnings
	// says so in words.
	TornTail bool
	Warnings []string

	lastSeq int64
}

// Read replays the run file at path. An incomplete last line (a crash in
// mid-write) is ignored and reported in Run.TornTail and Run.Warnings;
// anything else that does not parse is an error naming the file and line.
// Read takes no lock: it may run while a writer appends.
func Read(path string) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()
	run, _, err := replay(f, path)
	return run, err
}

// replay reads a run file from r and also returns the length of its intact
// part: everything but a torn tail.
func replay(r io.Reader, path string) (*Run, int64, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, fmt.Errorf("read journal %s: %w", path, err)
	}
	p := newReplayer(path)
	var valid int64
	for line := 1; len(data) > 0; line++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			p.run.TornTail = true
			p.run.Warnings = append(p.run.Warnings, fmt.Sprintf(
				"%s line %d: ignored an incomplete last record (%d bytes), cut off when its writer stopped",
				path, line, len(data)))
			break
		}
		if err := p.line(data[:i]); err != nil {
			return nil, 0, fmt.Errorf("read journal %s line %d: %w", path, line, err)
		}
		data = data[i+1:]
		valid += int64(i + 1)
	}
	if p.run.lastSeq == 0 {
		return nil, 0, fmt.Errorf("read journal %s: no header record", path)
	}
	return p.run, valid, nil
}

// replayer applies records to a Run.
type replayer struct {
	run   *Run
	byRef map[Ref]int    // intent -> index in run.Resources
	byKey map[string]int // type/region/id -> index in run.Resources
}

func newReplayer(path string) *replayer {
	return &replayer{run: &Run{Path: path}, byRef: map[Ref]int{}, byKey: map[string]int{}}
}

func key(typ Type, region, id string) string { return string(typ) + "\x00" + region + "\x00" + id }

// line parses and applies one complete line.
func (p *replayer) line(b []byte) error {
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return fmt.Errorf("corrupt record: %w", err)
	}
	if rec.Seq != p.run.lastSeq+1 {
		return fmt.Errorf("record number %d follows %d", rec.Seq, p.run.lastSeq)
	}
	if (rec.Kind == kindHeader) != (rec.Seq == 1) {
		return fmt.Errorf("%s record at position %d: a run starts with its one header", rec.Kind, rec.Seq)
	}
	if err := p.apply(&rec); err != nil {
		return fmt.Errorf("%s record %d: %w", rec.Kind, rec.Seq, err)
	}
	p.run.lastSeq = rec.Seq
	return nil
}

// apply is the replay state machine.
func (p *replayer) apply(rec *record) error {
	run := p.run
	switch rec.Kind {
	case kindHeader:
		if rec.Format > formatVersion {
			return fmt.Errorf("written in format %d by a newer imgbuild; this one reads format %d", rec.Format, formatVersion)
		}
		if rec.Header == nil {
			return fmt.Errorf("missing header")
		}
		run.Header = *rec.Header
	case kindResume:
		if rec.Header == nil {
			return fmt.Errorf("missing header")
		}
		run.Resumed = append(run.Resumed, *rec.Header)
		run.Ended, run.Outcome = false, ""
	case kindAccess:
		if rec.Access == nil || rec.Access.Build == "" {
			return fmt.Errorf("missing access or its build")
		}
		run.Accesses = append(run.Accesses, *rec.Access)
	case kindIntent:
		if rec.Resource == nil {
			return fmt.Errorf("missing resource")
		}
		r := rec.Resource.forRecord()
		r.Ref, r.State = Ref(rec.Seq), StateIntended
		p.byRef[r.Ref] = len(run.Resources)
		if r.ID != "" {
			// An intent that carries its ID (a snapshot seen on its
			// image) is settled by a deleted record even when the
			// created record never came.
			p.byKey[key(r.Type, r.Region, r.ID)] = len(run.Resources)
		}
		run.Resources = append(run.Resources, r)
	case kindCreated, kindNotCreated:
		return p.resolve(rec)
	case kindDeleted, kindKept:
		if rec.Resource == nil {
			return fmt.Errorf("missing resource")
		}
		p.settle(rec.Resource, State(rec.Kind))
	case kindEnd:
		run.Ended, run.Outcome = true, rec.Outcome
	default:
		return fmt.Errorf("unknown record kind")
	}
	return nil
}

// resolve applies a created or not-created record to its intent.
func (p *replayer) resolve(rec *record) error {
	i, ok := p.byRef[rec.Ref]
	if !ok || p.run.Resources[i].State != StateIntended {
		return fmt.Errorf("refers to %d, which is not an unresolved intent", rec.Ref)
	}
	r := &p.run.Resources[i]
	if rec.Kind == kindNotCreated {
		r.State = StateNotCreated
		return nil
	}
	r.ID, r.State = rec.ID, StateCreated
	p.byKey[key(r.Type, r.Region, r.ID)] = i
	for _, x := range rec.Extra {
		x = x.forRecord()
		x.State = StateCreated
		p.byKey[key(x.Type, x.Region, x.ID)] = len(p.run.Resources)
		p.run.Resources = append(p.run.Resources, x)
	}
	return nil
}

// settle applies a deleted or kept record. A resource the run never
// recorded (found by a tag sweep, say) is added.
func (p *replayer) settle(r *Resource, s State) {
	k := key(r.Type, r.Region, r.ID)
	if i, ok := p.byKey[k]; ok {
		p.run.Resources[i].State = s
		return
	}
	n := Resource{Type: r.Type, Region: r.Region, ID: r.ID, State: s}
	p.byKey[k] = len(p.run.Resources)
	p.run.Resources = append(p.run.Resources, n)
}

// holder describes the process that last took the run: the creator or the
// latest resumer.
func (r *Run) holder() Header {
	if n := len(r.Resumed); n > 0 {
		return r.Resumed[n-1]
	}
	return r.Header
}
