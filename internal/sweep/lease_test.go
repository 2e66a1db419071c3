package sweep

import (
	"context"
	"testing"
	"time"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/lease"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/tags"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestCleanupRemovesALeftLease: a run killed while it held a lease left
// the SSM parameter behind; cleanup resolves the journaled intent and
// removes it, but leaves a lease another run holds now.
func TestCleanupRemovesALeftLease(t *testing.T) {
	url := testenv.PlainMoto(t)
	t.Setenv("AWS_ENDPOINT_URL", url)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	ctx := context.Background()
	sess, err := awsapi.NewSession(ctx, awsapi.Access{Region: localcloud.Region, SkipCredentialValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	c := sess.SSM(localcloud.Region)
	for _, tt := range []struct {
		name, holderRun string
		gone            bool
	}{
		{"held by the killed run", "run-1", true},
		{"taken over by another run", "run-2", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fp := "sha256-" + tt.holderRun
			l, err := lease.Acquire(ctx, c, localcloud.Region, fp, lease.Who(tt.holderRun), time.Minute, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = l.Release(context.Background()) })
			// The journal of run-1, killed after its intent.
			r := journal.Resource{Type: journal.Lease, Region: localcloud.Region, Name: lease.Name(fp),
				Tags: map[string]string{tags.RunID: "run-1"}}
			resolved, err := Resolve(ctx, sess, r)
			if tt.gone {
				if err != nil || resolved.ID != lease.Name(fp) {
					t.Fatalf("resolve: %+v, %v", resolved, err)
				}
			} else if err == nil {
				t.Fatalf("resolve found the other run's lease: %+v", resolved)
			}
			r.ID = lease.Name(fp)
			if err := Delete(ctx, sess, r); err != nil {
				t.Fatal(err)
			}
			h, err := lease.Current(ctx, c, lease.Name(fp))
			if err != nil {
				t.Fatal(err)
			}
			if (h == nil) != tt.gone {
				t.Errorf("after cleanup the lease is held by %+v, want gone=%v", h, tt.gone)
			}
		})
	}
}
