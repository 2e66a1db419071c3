// Package lease keeps a build lease in AWS so that two runners on
// different machines never build the same fingerprint at the same time.
//
// A lease is the SSM parameter /imgbuild/lease/<fingerprint> in one region
// (String, standard tier) whose value is JSON {holder, run_id, expires}.
// It is not journalled: it costs nothing, and a lease left behind by a
// runner that died expires by itself.
//
// Acquire creates the parameter with PutParameter(Overwrite=false), which
// SSM performs atomically: exactly one runner succeeds, the others get
// ParameterAlreadyExists, read the value and wait (polling with backoff,
// reporting who holds it) until it is released or expires.
//
// SSM has no conditional overwrite or delete, so taking over an expired
// lease needs an arbiter. The runners that see the expired value X race to
// create a marker parameter <name>.takeover.<hash(X)>.1, again with
// Overwrite=false: the one that creates it re-reads the lease and, if the
// value is still X, overwrites it with its own; then it deletes the marker.
// A marker older than a minute belongs to a taker that died between the two
// calls; the next taker then races for generation .2 (and so on), so that
// even a stale marker is taken over by exactly one runner.
//
// Race windows, honestly:
//   - Takeover: the re-read and the overwrite are two calls. A holder that
//     stalled past its expiry and renews exactly between them is
//     overwritten; its next Renew finds the lease is no longer its own and
//     reports ErrLost. A taker stalled for more than a minute between
//     creating its marker and re-reading can race a second-generation
//     taker in the same way.
//   - Renew and Release read the value, check it is their own and not
//     expired, then write or delete. A taker only acts on an expired lease,
//     so these windows open only when the clocks of two machines disagree
//     by more than the time left on the lease (Renew runs at a third of
//     the ttl, so that is two thirds of it). Release never deletes a lease
//     whose expiry has passed: it may have been taken over.
//
// Expiry times come from the holder's clock; keep runners' clocks in sync
// (NTP) and the ttl well above any plausible skew.
package lease
