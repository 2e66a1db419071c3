package lease

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// fakeSSM is an in-memory parameter store with SSM's semantics for the
// three calls a lease makes.
type fakeSSM struct {
	mu     sync.Mutex
	params map[string]*types.Parameter
	calls  []string // "Put name", "Get name", "Delete name"
}

func newFake() *fakeSSM { return &fakeSSM{params: map[string]*types.Parameter{}} }

func (f *fakeSSM) PutParameter(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.Name)
	f.calls = append(f.calls, "Put "+name)
	p, ok := f.params[name]
	if ok && !aws.ToBool(in.Overwrite) {
		return nil, &smithy.GenericAPIError{Code: "ParameterAlreadyExists"}
	}
	var v int64 = 1
	if ok {
		v = p.Version + 1
	}
	f.params[name] = &types.Parameter{Name: in.Name, Value: in.Value, Version: v, LastModifiedDate: aws.Time(time.Now())}
	return &ssm.PutParameterOutput{Version: v}, nil
}

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "Get "+aws.ToString(in.Name))
	p, ok := f.params[aws.ToString(in.Name)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "ParameterNotFound"}
	}
	c := *p
	return &ssm.GetParameterOutput{Parameter: &c}, nil
}

func (f *fakeSSM) DeleteParameter(_ context.Context, in *ssm.DeleteParameterInput, _ ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "Delete "+aws.ToString(in.Name))
	if _, ok := f.params[aws.ToString(in.Name)]; !ok {
		return nil, &smithy.GenericAPIError{Code: "ParameterNotFound"}
	}
	delete(f.params, aws.ToString(in.Name))
	return &ssm.DeleteParameterOutput{}, nil
}

func (f *fakeSSM) value(name string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.params[name]
	if !ok {
		return "", false
	}
	return aws.ToString(p.Value), true
}

func (f *fakeSSM) names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.params {
		out = append(out, n)
	}
	return out
}
