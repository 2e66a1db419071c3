// Package journal keeps the crash-safe record of every cloud resource a
// build run creates, from which cleanup removes what a failure, an
// interrupt or a crash left behind.
//
// # Use
//
// A run calls Create once, then Writer.Access for each build when its AWS
// session is made (the account and the settings that chose the
// credentials), then for every resource Writer.Intent before the
// create call and Writer.Created with the cloud ID as soon as the call
// returns, before waiting on the resource (DESIGN.md section 4, executor
// rule 2). Cleanup records Writer.Deleted; a successful build records
// Writer.Kept for its final images and their snapshots in every region.
// Writer.End marks a clean end, with OutcomeOK or OutcomeFailed (a failed
// run whose cleanup finished still ends cleanly). `imgbuild cleanup` finds
// runs with List (RunInfo.Orphaned: writer gone, no end), takes one over
// with Resume, and removes Read(path).Leftovers().
//
// # File format
//
// Each run is one file, <state dir>/runs/<run id>.jsonl, mode 0600 in a
// directory of mode 0700. It holds one JSON object per line, each with a
// sequence number "seq" (1, 2, 3... with no gaps), a "kind" and a "time":
//
//	{"seq":1,"kind":"header","time":...,"format":2,"header":{"run_id":...,"template":...,"builds":[...],"pid":...,"hostname":...,"started":...,"version":...}}
//	{"seq":2,"kind":"access","time":...,"access":{"build":"web","account":"111122223333","arn":...,"source":...,"region":...,"profile":...,"role_arn":...}}
//	{"seq":3,"kind":"intent","time":...,"resource":{"type":"instance","region":"us-east-1","build":"web","client_token":...,"tags":{...}}}
//	{"seq":4,"kind":"created","time":...,"ref":3,"id":"i-0abc","extra":[...resources created with it...]}
//	{"seq":5,"kind":"not-created","time":...,"ref":3}
//	{"seq":6,"kind":"deleted","time":...,"resource":{"type":"instance","region":"us-east-1","id":"i-0abc"}}
//	{"seq":7,"kind":"kept","time":...,"resource":{"type":"image","region":"eu-west-1","id":"ami-0def"}}
//	{"seq":8,"kind":"resume","time":...,"header":{"run_id":...,"pid":...,"hostname":...,"started":...}}
//	{"seq":9,"kind":"end","time":...,"outcome":"failed"}
//
// "ref" is the sequence number of the intent a created or not-created
// record resolves. A header is always first and only first. A resume record
// starts a new writer's stretch of the file and clears an earlier end.
// Readers ignore fields they do not know; a header with a "format" newer
// than this package's is refused.
//
// # Guarantees
//
// Every record is written with one write(2) of one whole line followed by
// fsync(2), under the Writer's mutex, so records never interleave. When a
// Writer method returns nil its record is on disk. Create writes and
// fsyncs the header in a temporary file, links it into place and fsyncs
// the directory, so a run file never exists without its header.
//
// A crash (SIGKILL, power loss) can lose at most the record being written:
// it leaves either nothing or an incomplete last line. Read ignores an
// incomplete last line and reports it in Run.TornTail; Resume truncates
// it before appending. A bad line anywhere else is an error naming the file
// and line. Because the intent precedes the create call, a resource created
// just before a crash is still known by its client token, name and tags.
//
// # Locking
//
// A Writer holds an exclusive flock(2) on its run file until Close, so a
// second Create or Resume of the run, in this process or another, fails
// with a *LockedError naming the holder's PID and host. The kernel drops
// the lock when the holder dies however it dies, so List reports
// RunInfo.WriterAlive by trying a shared lock. Locking needs a local file
// system on Linux, macOS or a BSD.
//
// # What a journal holds
//
// Resource types, regions, IDs, names, client tokens and tags: enough to
// find and delete a resource; and per build the account ID, caller ARN and
// the non-secret access settings (profile, role ARN, credentials file,
// endpoint), enough for cleanup to refuse the wrong account and to say
// which access to use. Never put credentials, passwords, private
// keys or other secrets in a Resource or Header; the file is private to
// its owner but is not a secret store.
package journal
