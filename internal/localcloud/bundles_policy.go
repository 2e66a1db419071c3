package localcloud

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// BundleInstance's upload policy is an S3 POST policy: base64 of a JSON
// document {"expiration": ISO 8601, "conditions": [...]} that lets EC2
// upload the bundle on the caller's behalf, signed with
// base64(HMAC-SHA1(secret access key, the base64 policy)). EC2's API
// reference requires the bucket condition and acl = ec2-bundle-read; a
// ["starts-with", "$key", prefix] condition, when there, must admit the
// task's prefix. The cloud knows the secret key of AccessKeyID only (the
// credentials it hands out), so a policy naming another access key is
// refused as an unknown one.

// knownSecrets maps the access keys the cloud knows to their secret keys.
var knownSecrets = map[string]string{AccessKeyID: SecretAccessKey}

// policyError is an upload policy the cloud refuses, in S3's words for a
// POST policy ("Invalid according to Policy: ...").
func policyError(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterValue",
		"Storage.S3.UploadPolicy: Invalid according to Policy: " + fmt.Sprintf(format, args...)}
}

// checkUploadPolicy checks a BundleInstance's upload policy and its
// signature for storing the bundle under bucket/prefix at now.
func checkUploadPolicy(accessKey, policy, signature, bucket, prefix string, now time.Time) *apiError {
	secret, ok := knownSecrets[accessKey]
	if !ok {
		// EC2's common error for credentials it does not know.
		return &apiError{http.StatusBadRequest, "InvalidClientTokenId",
			fmt.Sprintf("The AWS Access Key Id %s in Storage.S3.AWSAccessKeyId does not exist in our records.", accessKey)}
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(policy))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		// The wording of EC2's and S3's SignatureDoesNotMatch.
		return &apiError{http.StatusForbidden, "SignatureDoesNotMatch",
			"The upload policy signature we calculated does not match the signature you provided (Storage.S3.UploadPolicySignature). " +
				"Check your AWS Secret Access Key and signing method."}
	}
	raw, err := base64.StdEncoding.DecodeString(policy)
	if err != nil {
		return policyError("the policy is not base64: %v", err)
	}
	var doc struct {
		Expiration string            `json:"expiration"`
		Conditions []json.RawMessage `json:"conditions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return policyError("the policy is not a JSON document: %v", err)
	}
	exp, err := time.Parse(time.RFC3339, doc.Expiration)
	switch {
	case doc.Expiration == "":
		return policyError("Policy has no expiration.")
	case err != nil:
		return policyError("Policy expiration %q is not an ISO 8601 time.", doc.Expiration)
	case !exp.After(now):
		return policyError("Policy expired.")
	}
	return checkConditions(doc.Conditions, bucket, prefix)
}

// checkConditions checks the policy's conditions against the task.
func checkConditions(conds []json.RawMessage, bucket, prefix string) *apiError {
	seen := map[string]bool{}
	for _, c := range conds {
		field, op, value, err := parseCondition(c)
		if err != nil {
			return policyError("%v", err)
		}
		ok := true
		switch {
		case field == "bucket" && op == "eq":
			ok = value == bucket
		case field == "acl" && op == "eq":
			ok = value == "ec2-bundle-read"
		case field == "key" && op == "starts-with":
			ok = strings.HasPrefix(prefix, value)
		case field == "bucket" || field == "acl" || field == "key":
			ok = false
		}
		if !ok {
			return policyError("Policy Condition failed: %s", c)
		}
		seen[field] = true
	}
	for _, f := range []string{"bucket", "acl"} {
		if !seen[f] {
			return policyError("Policy has no %s condition (EC2 requires the bucket and acl ec2-bundle-read).", f)
		}
	}
	return nil
}

// parseCondition reads {"field": "value"} (exact match) or
// ["op", "$field", value]; value is "" when it is not a string (as in
// content-length-range, which the cloud ignores).
func parseCondition(c json.RawMessage) (field, op, value string, err error) {
	var obj map[string]string
	if json.Unmarshal(c, &obj) == nil && len(obj) == 1 {
		for k, v := range obj {
			return strings.ToLower(k), "eq", v, nil
		}
	}
	var arr []any
	if json.Unmarshal(c, &arr) == nil && len(arr) == 3 {
		op, _ := arr[0].(string)
		field, _ := arr[1].(string)
		value, _ := arr[2].(string)
		if op != "" {
			return strings.ToLower(strings.TrimPrefix(field, "$")), strings.ToLower(op), value, nil
		}
	}
	return "", "", "", fmt.Errorf("condition %s is neither {\"field\": \"value\"} nor [\"op\", \"$field\", \"value\"]", c)
}
