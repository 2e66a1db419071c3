package awsapi

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Instance state tables: what each wait makes of each state. A state not
// listed is a failure.
var (
	runningStates = map[types.InstanceStateName]outcome{
		types.InstanceStateNamePending: pending,
		types.InstanceStateNameRunning: success,
	}
	stoppedStates = map[types.InstanceStateName]outcome{
		types.InstanceStateNamePending:  pending,
		types.InstanceStateNameRunning:  pending, // the stop has not started yet
		types.InstanceStateNameStopping: pending,
		types.InstanceStateNameStopped:  success,
	}
	terminatedStates = map[types.InstanceStateName]outcome{
		types.InstanceStateNamePending:      pending,
		types.InstanceStateNameRunning:      pending,
		types.InstanceStateNameStopping:     pending,
		types.InstanceStateNameStopped:      pending,
		types.InstanceStateNameShuttingDown: pending,
		types.InstanceStateNameTerminated:   success,
	}
)

// InstanceRunning waits until instance id is running and returns it, with
// its addresses. An instance that stops or terminates instead ends the wait
// at once with its StateReason (e.g. Server.InsufficientInstanceCapacity).
func (w Waiter) InstanceRunning(ctx context.Context, id string) (types.Instance, error) {
	t := w.Timeouts.withDefaults()
	return w.instance(ctx, id, "running", t.InstanceRunning, runningStates)
}

// InstanceStopped waits until instance id is stopped and returns it.
func (w Waiter) InstanceStopped(ctx context.Context, id string) (types.Instance, error) {
	t := w.Timeouts.withDefaults()
	return w.instance(ctx, id, "stopped", t.InstanceStopped, stoppedStates)
}

// InstanceTerminated waits until instance id is terminated. An instance
// that Describe no longer knows counts as terminated: EC2 lists terminated
// instances for about an hour, so by then it is gone.
func (w Waiter) InstanceTerminated(ctx context.Context, id string) error {
	t := w.Timeouts.withDefaults()
	_, err := w.instance(ctx, id, "terminated", t.InstanceTerminated, terminatedStates)
	return err
}

func (w Waiter) instance(ctx context.Context, id, want string, timeout time.Duration,
	states map[types.InstanceStateName]outcome) (types.Instance, error) {
	var inst types.Instance
	wt := w.watch(kindInstance, id, InstanceCadence)
	err := w.await(ctx, wt, "instance "+id, want, timeout, func(o observation) (bool, string, error) {
		err := o.err
		if err == nil && !o.found {
			err = notVisible("InvalidInstanceID.NotFound", id)
		}
		if err != nil && IsNotFound(err) && want == "terminated" {
			return true, "gone", nil
		}
		if err != nil {
			return false, "", err
		}
		inst = o.instance
		var name types.InstanceStateName
		if inst.State != nil {
			name = inst.State.Name
		}
		switch states[name] {
		case success:
			return true, string(name), nil
		case pending:
			return false, string(name), nil
		}
		return false, string(name), fmt.Errorf("instance %s is %s, not %s: %s%s",
			id, name, want, reason(inst.StateReason), transition(inst))
	})
	return inst, err
}

// transition adds the StateTransitionReason when EC2 gives one.
func transition(inst types.Instance) string {
	if r := aws.ToString(inst.StateTransitionReason); r != "" {
		return " (" + r + ")"
	}
	return ""
}
