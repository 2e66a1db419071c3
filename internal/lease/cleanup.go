package lease

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

// Name returns the SSM parameter name of the lease on fingerprint.
func Name(fingerprint string) string { return Prefix + fingerprint }

// Current reads who holds the lease name in c: nil when there is none.
func Current(ctx context.Context, c SSMAPI, name string) (*Holder, error) {
	out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	switch {
	case awsapi.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read lease %s: %w", name, err)
	case out.Parameter == nil:
		return nil, fmt.Errorf("read lease %s: empty answer", name)
	}
	var h Holder
	if err := json.Unmarshal([]byte(aws.ToString(out.Parameter.Value)), &h); err != nil {
		return &Holder{Holder: "unknown"}, nil
	}
	return &h, nil
}

// Remove deletes the lease name when owns says its holder is the one
// being cleaned up (a run that was killed before it released it): what
// `imgbuild cleanup` does. A lease another runner holds now, or none, is
// left alone. Between the read and the delete another runner can take an
// expired lease over; it then loses it and, at worst, builds the same
// fingerprint a second time, which wastes an instance but never mixes
// images.
func Remove(ctx context.Context, c SSMAPI, name string, owns func(holder string) bool) error {
	h, err := Current(ctx, c, name)
	if err != nil || h == nil || !owns(h.Holder) {
		return err
	}
	if _, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)}); err != nil && !awsapi.IsNotFound(err) {
		return fmt.Errorf("delete lease %s: %w", name, err)
	}
	return nil
}

// Who names this process, as the holder of the leases of run runID: the
// host, the process ID and the run, which cleanup matches (HeldByRun).
func Who(runID string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s pid %d run %s", host, os.Getpid(), runID)
}

// HeldByRun reports whether holder (as Who wrote it) is run runID's.
func HeldByRun(holder, runID string) bool {
	return runID != "" && strings.HasSuffix(holder, " run "+runID)
}
