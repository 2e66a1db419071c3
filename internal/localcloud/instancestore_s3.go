package localcloud

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

// The cloud reads and writes bundles in moto's S3 itself, as EC2 does in
// S3: path-style requests straight to moto_server, which answers S3 for a
// request signed for service s3 and checks no signature.

// s3Request sends one S3 request to moto and returns its response when
// the status is 2xx; other statuses are errors naming S3's error code, and
// 404 ones wrap fs.ErrNotExist.
func (p *proxy) s3Request(ctx context.Context, method, region, bucket, key string, body []byte, header http.Header) (*http.Response, error) {
	u := p.moto.String() + "/" + url.PathEscape(bucket)
	if key != "" {
		u += "/" + escapeKey(key)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+AccessKeyID+"/20200101/"+region+"/s3/aws4_request, SignedHeaders=host, Signature=0")
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("s3 %s %s/%s: %w", method, bucket, key, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct{ Code, Message string }
	_ = xml.Unmarshal(b, &e)
	err = fmt.Errorf("s3 %s %s/%s: %d %s %s", method, bucket, key, resp.StatusCode, e.Code, e.Message)
	if resp.StatusCode == http.StatusNotFound {
		err = fmt.Errorf("%w (%w)", err, fs.ErrNotExist)
	}
	return nil, err
}

// escapeKey escapes an object key for a URL path, keeping its slashes.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// s3Get opens an object.
func (p *proxy) s3Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	resp, err := p.s3Request(ctx, http.MethodGet, Region, bucket, key, nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// s3Put writes an object with the canned ACL aws-exec-read, which lets
// EC2 read it (moto knows no ec2-bundle-read, the ACL of BundleInstance's
// uploads).
func (p *proxy) s3Put(ctx context.Context, region, bucket, key string, data []byte) error {
	resp, err := p.s3Request(ctx, http.MethodPut, region, bucket, key, data, http.Header{"X-Amz-Acl": {"aws-exec-read"}})
	if err != nil {
		return err
	}
	return drain(resp)
}

// s3Copy copies an object within moto.
func (p *proxy) s3Copy(ctx context.Context, region, srcBucket, srcKey, dstBucket, dstKey string) error {
	h := http.Header{"X-Amz-Copy-Source": {"/" + srcBucket + "/" + escapeKey(srcKey)}, "X-Amz-Acl": {"aws-exec-read"}}
	resp, err := p.s3Request(ctx, http.MethodPut, region, dstBucket, dstKey, nil, h)
	if err != nil {
		return err
	}
	return drain(resp)
}

// s3EnsureBucket creates bucket in region unless it exists.
func (p *proxy) s3EnsureBucket(ctx context.Context, region, bucket string) error {
	resp, err := p.s3Request(ctx, http.MethodHead, region, bucket, "", nil, nil)
	if err == nil {
		return drain(resp)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var body []byte
	if region != "us-east-1" {
		body = []byte("<CreateBucketConfiguration><LocationConstraint>" + region + "</LocationConstraint></CreateBucketConfiguration>")
	}
	resp, err = p.s3Request(ctx, http.MethodPut, region, bucket, "", body, http.Header{"Content-Type": {"application/xml"}})
	if err != nil {
		return fmt.Errorf("create bucket %s in %s: %w", bucket, region, err)
	}
	return drain(resp)
}

func drain(resp *http.Response) error {
	_, err := io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	return err
}
