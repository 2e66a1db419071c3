package awsapi

import (
	"context"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/go-hclog"
)

const (
	observeID   = "imgbuild.ObserveCall"
	rateLimitID = "imgbuild.RateLimit"
)

// unfilteredKey marks, in the stack values, a Describe call that EC2
// charges to its smaller unfiltered bucket.
type unfilteredKey struct{}

// limitMiddleware returns the API option that observes every call (see
// observeCall) and makes every attempt of every operation on a client wait
// for a token from l. The token is taken in the Finalize step right after
// the SDK's Retry middleware, so each attempt, retries included, takes
// one, and before signing, so a long wait does not age the signature.
func limitMiddleware(l *Limiter, region string, log hclog.Logger) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		observe := middleware.InitializeMiddlewareFunc(observeID, func(
			ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
		) (middleware.InitializeOutput, middleware.Metadata, error) {
			return observeCall(ctx, in, next, region, log)
		})
		if err := stack.Initialize.Add(observe, middleware.Before); err != nil {
			return err
		}
		limit := &rateLimit{limiter: l, region: region, log: log}
		if err := stack.Finalize.Insert(limit, "Retry", middleware.After); err != nil {
			// No retry middleware on this stack: still limit every attempt.
			return stack.Finalize.Add(limit, middleware.Before)
		}
		return nil
	}
}

// observeCall runs one call with a callState, marking Describe calls that
// EC2 charges to its unfiltered bucket, and logs it at trace level: service,
// action, region, duration, attempts (1 + retries) and error code.
func observeCall(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
	region string, log hclog.Logger,
) (middleware.InitializeOutput, middleware.Metadata, error) {
	if unfilteredDescribe(in.Parameters) {
		ctx = middleware.WithStackValue(ctx, unfilteredKey{}, true)
	}
	st := &callState{}
	ctx = middleware.WithStackValue(ctx, callStateKey{}, st)
	start := time.Now()
	out, md, err := next.HandleInitialize(ctx, in)
	if log.IsTrace() {
		if r := awsmiddleware.GetRegion(ctx); r != "" {
			region = r
		}
		args := []any{"service", awsmiddleware.GetServiceID(ctx), "action", middleware.GetOperationName(ctx),
			"region", region, "duration", time.Since(start), "attempts", st.attempts, "code", ErrorCode(err)}
		if err != nil && ErrorCode(err) == "" {
			args = append(args, "error", err)
		}
		log.Trace("aws request", args...)
	}
	return out, md, err
}

type rateLimit struct {
	limiter *Limiter
	region  string
	log     hclog.Logger
}

func (*rateLimit) ID() string { return rateLimitID }

func (m *rateLimit) HandleFinalize(
	ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler,
) (middleware.FinalizeOutput, middleware.Metadata, error) {
	service := awsmiddleware.GetServiceID(ctx)
	action := middleware.GetOperationName(ctx)
	region := awsmiddleware.GetRegion(ctx)
	if region == "" {
		region = m.region
	}
	unfiltered, _ := middleware.GetStackValue(ctx, unfilteredKey{}).(bool)
	e, err := m.limiter.wait(ctx, service, region, action, unfiltered)
	if err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, err
	}
	out, md, err := next.HandleFinalize(ctx, in)
	if IsThrottle(err) {
		e.throttled.Add(1)
		m.log.Debug("aws request throttled", "service", service, "action", action,
			"region", region, "code", ErrorCode(err))
	}
	return out, md, err
}

// unfilteredDescribe reports whether params is a Describe input that EC2
// charges to its unfiltered-and-unpaginated bucket: no IDs, no filters and
// no MaxResults.
func unfilteredDescribe(params any) bool {
	switch in := params.(type) {
	case *ec2.DescribeInstancesInput:
		return len(in.InstanceIds) == 0 && len(in.Filters) == 0 && in.MaxResults == nil
	case *ec2.DescribeInstanceStatusInput:
		return len(in.InstanceIds) == 0 && len(in.Filters) == 0 && in.MaxResults == nil
	case *ec2.DescribeNetworkInterfacesInput:
		return len(in.NetworkInterfaceIds) == 0 && len(in.Filters) == 0 && in.MaxResults == nil
	case *ec2.DescribeSecurityGroupsInput:
		return len(in.GroupIds) == 0 && len(in.GroupNames) == 0 && len(in.Filters) == 0 && in.MaxResults == nil
	case *ec2.DescribeSnapshotsInput:
		return len(in.SnapshotIds) == 0 && len(in.Filters) == 0 && in.MaxResults == nil
	case *ec2.DescribeSpotInstanceRequestsInput:
		return len(in.SpotInstanceRequestIds) == 0 && len(in.Filters) == 0 && in.MaxResults == nil
	case *ec2.DescribeVolumesInput:
		return len(in.VolumeIds) == 0 && len(in.Filters) == 0 && in.MaxResults == nil
	}
	return false
}
