// Package pptest helps the AWS post-processors' tests: a local cloud,
// images of a recipe registered through the API, and a count of the AWS
// calls a post-processor makes.
package pptest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/tags"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// Regions are the two regions the tests publish in.
var Regions = []string{"eu-west-1", "us-east-1"}

// Cloud starts a local cloud without guests for t and points the SDK's
// environment (AWS_ENDPOINT_URL, credentials) at it.
func Cloud(t *testing.T) *localcloud.Cloud {
	t.Helper()
	s, err := localcloud.ProfileSettings(localcloud.Instant)
	if err != nil {
		t.Fatal(err)
	}
	s.SSH = false
	cloud := testenv.LocalCloud(t, s)
	// The cloud is plain HTTP on loopback; a CA bundle of the host would
	// make the SDK refuse the counting HTTP client of Calls.
	t.Setenv("AWS_CA_BUNDLE", "")
	for _, kv := range cloud.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return cloud
}

// EC2 returns an EC2 client of the cloud for region.
func EC2(cloud *localcloud.Cloud, region string) *ec2.Client {
	return ec2.NewFromConfig(testenv.AWSConfig(cloud.URL(), region))
}

// SSM returns an SSM client of the cloud for region.
func SSM(cloud *localcloud.Cloud, region string) *ssm.Client {
	return ssm.NewFromConfig(testenv.AWSConfig(cloud.URL(), region))
}

// RecipeImages registers, in every region, an image of recipe named name
// (a copy of a built-in Amazon Linux image, tagged like a complete
// build), and returns the artifact that lists them. Images made one after
// the other differ in creation date only by the time between the calls:
// callers wait a second between them.
func RecipeImages(t *testing.T, cloud *localcloud.Cloud, recipe, name string) *artifact.Artifact {
	t.Helper()
	ctx := context.Background()
	src := linuxAMI(t, EC2(cloud, "us-east-1"))
	a := &artifact.Artifact{BuildName: recipe, BuilderType: "amazon-ebs"}
	for _, region := range Regions {
		c := EC2(cloud, region)
		out, err := c.CopyImage(ctx, &ec2.CopyImageInput{
			SourceRegion: aws.String("us-east-1"), SourceImageId: aws.String(src), Name: aws.String(name),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{
				{Key: aws.String(tags.Recipe), Value: aws.String(recipe)},
				{Key: aws.String(tags.Complete), Value: aws.String(time.Now().UTC().Format(time.RFC3339))},
			}}},
		})
		if err != nil {
			t.Fatalf("copy %s to %s: %v", src, region, err)
		}
		im := Describe(t, c, aws.ToString(out.ImageId))
		if im == nil {
			t.Fatalf("image %s in %s not found", aws.ToString(out.ImageId), region)
		}
		a.Images = append(a.Images, artifact.Image{Region: region, ImageID: aws.ToString(out.ImageId), Snapshots: Snapshots(*im)})
	}
	a.Sort()
	return a
}

// Describe returns the image id, nil when it does not exist.
func Describe(t *testing.T, c *ec2.Client, id string) *types.Image {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil && !strings.Contains(err.Error(), "NotFound") {
		t.Fatalf("describe image %s: %v", id, err)
	}
	if err != nil || len(out.Images) == 0 {
		return nil
	}
	return &out.Images[0]
}

// Snapshots returns the snapshot IDs of an image's mappings.
func Snapshots(im types.Image) []string {
	var out []string
	for _, m := range im.BlockDeviceMappings {
		if m.Ebs != nil && aws.ToString(m.Ebs.SnapshotId) != "" {
			out = append(out, aws.ToString(m.Ebs.SnapshotId))
		}
	}
	return out
}

// SnapshotExists reports whether snapshot id exists.
func SnapshotExists(t *testing.T, c *ec2.Client, id string) bool {
	t.Helper()
	out, err := c.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
	if err != nil {
		if strings.Contains(err.Error(), "NotFound") {
			return false
		}
		t.Fatalf("describe snapshot %s: %v", id, err)
	}
	return len(out.Snapshots) > 0
}

func linuxAMI(t *testing.T, c *ec2.Client) string {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{
		Owners:  []string{"amazon"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"amzn*"}}},
	})
	if err != nil || len(out.Images) == 0 {
		t.Fatalf("find a built-in AMI: %v", err)
	}
	return aws.ToString(out.Images[0].ImageId)
}

// Calls counts the AWS calls made through its Client, by action
// (EC2's Action, SSM's X-Amz-Target operation, STS's Action).
type Calls struct {
	mu      sync.Mutex
	actions map[string]int
}

// Client returns an HTTP client for the SDK that counts the calls it
// sends. The SDK refuses it when AWS_CA_BUNDLE is set (Cloud unsets it).
func (c *Calls) Client() aws.HTTPClient {
	return countingClient{calls: c, inner: awshttp.NewBuildableClient()}
}

// countingClient counts and forwards.
type countingClient struct {
	calls *Calls
	inner *awshttp.BuildableClient
}

func (cc countingClient) Do(r *http.Request) (*http.Response, error) {
	if err := cc.calls.count(r); err != nil {
		return nil, err
	}
	return cc.inner.Do(r)
}

func (c *Calls) count(r *http.Request) error {
	action := ""
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		_, action, _ = strings.Cut(target, ".")
	} else if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil {
			action = form.Get("Action")
		}
	}
	c.mu.Lock()
	if c.actions == nil {
		c.actions = map[string]int{}
	}
	c.actions[action]++
	c.mu.Unlock()
	return nil
}

// Reset forgets the calls counted so far.
func (c *Calls) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.actions = nil
}

// Mutating returns the calls counted that may change something (not
// Describe*, Get*, List*, Head*), as "Action xN", sorted.
func (c *Calls) Mutating() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for a, n := range c.actions {
		switch {
		case strings.HasPrefix(a, "Describe"), strings.HasPrefix(a, "Get"), strings.HasPrefix(a, "List"), strings.HasPrefix(a, "Head"):
			continue
		}
		out = append(out, fmt.Sprintf("%s x%d", a, n))
	}
	sort.Strings(out)
	return out
}
