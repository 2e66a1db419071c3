package steps

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/check"
)

// How often GetPasswordData is asked while the password is not there yet:
// first after passwordPoll, then twice as long each time up to
// maxPasswordPoll. Windows makes it late in its first boot, minutes after
// the instance runs; the short first pauses matter for images that boot
// fast.
var (
	passwordPoll    = time.Second
	maxPasswordPoll = 5 * time.Second
)

// getPassword waits for the Windows Administrator password of the
// instance (GetPasswordData, with communicator "winrm" and no
// winrm_password) and decrypts it with the key pair's RSA private key: the
// temporary one, or ssh_private_key_file with ssh_keypair_name. The
// password is registered as a secret before anything can print it. It
// creates nothing.
type getPassword struct{ b *build }

// Run waits up to windows_password_timeout for the password.
func (n *getPassword) Run(ctx context.Context) error {
	b := n.b
	id, region := b.st.instance.ID, b.cfg.Region
	key, err := n.key()
	if err != nil {
		return fmt.Errorf("read the Windows password of instance %s: %w", id, err)
	}
	timeout := check.DurationValue(b.cfg.WindowsPasswordTimeout)
	b.say("waiting for the Administrator password of instance %s (up to %s)", id, timeout)
	start := time.Now()
	deadline := start.Add(timeout)
	delay := passwordPoll
	for {
		out, err := b.ec2(region).GetPasswordData(ctx, &ec2.GetPasswordDataInput{InstanceId: aws.String(id)}, awsapi.RetryEventual)
		if err != nil {
			return fmt.Errorf("get the password data of instance %s in %s: %w", id, region, err)
		}
		if data := aws.ToString(out.PasswordData); data != "" {
			pw, err := decryptPassword(key, data)
			if err != nil {
				return fmt.Errorf("decrypt the password of instance %s in %s: %w", id, region, err)
			}
			if b.env.AddSecret != nil {
				b.env.AddSecret(pw)
			}
			b.st.password = pw
			b.say("Administrator password of instance %s retrieved after %s", id, time.Since(start).Round(time.Second))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("instance %s in %s has no Administrator password after %s: Windows makes it at the end of its first boot "+
				"when its agent (EC2Launch or EC2Config) is set to; check the instance's console output (aws ec2 get-console-output --instance-id %s), "+
				"raise windows_password_timeout, or set winrm_password with a user data script that sets it", id, region, timeout, id)
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(2*delay, maxPasswordPoll)
	}
}

// key returns the RSA key that decrypts the password.
func (n *getPassword) key() (*rsa.PrivateKey, error) {
	b := n.b
	var k crypto.Signer = b.st.privateKey
	if k == nil && b.cfg.SSHPrivateKeyFile != "" {
		pemBytes, err := os.ReadFile(check.Resolve(b.env.BaseDir, b.cfg.SSHPrivateKeyFile))
		if err != nil {
			return nil, fmt.Errorf("ssh_private_key_file: %w", err)
		}
		raw, err := gossh.ParseRawPrivateKey(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("ssh_private_key_file %s: %w", b.cfg.SSHPrivateKeyFile, err)
		}
		k, _ = raw.(crypto.Signer)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("EC2 encrypts Windows passwords with the key pair's RSA key, and this build has no RSA private key: " +
			"use the temporary key pair (temporary_key_pair_type = \"rsa\"), ssh_keypair_name with an RSA ssh_private_key_file, or winrm_password")
	}
	return rk, nil
}

// decryptPassword decrypts GetPasswordData's PasswordData: base64 of the
// password encrypted with RSA PKCS #1 v1.5.
func decryptPassword(key *rsa.PrivateKey, data string) (string, error) {
	ct, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return "", fmt.Errorf("password data is not base64: %w", err)
	}
	//lint:ignore SA1019 EC2 encrypts Windows passwords with PKCS #1 v1.5 (GetPasswordData); it is decrypted once, locally, so no oracle exists.
	pt, err := rsa.DecryptPKCS1v15(rand.Reader, key, ct)
	if err != nil {
		return "", errors.New("the password data does not decrypt with this key pair's private key")
	}
	return string(pt), nil
}
