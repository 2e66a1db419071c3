package steps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/provision"
)

// The shell variables the credentials file sets, which the upload
// command's {{.AccessKey}}, {{.SecretKey}} and {{.Token}} name.
const (
	envAccessKey = "IMGBUILD_BUNDLE_ACCESS_KEY"
	envSecretKey = "IMGBUILD_BUNDLE_SECRET_KEY"
	envToken     = "IMGBUILD_BUNDLE_TOKEN"
)

// toolCommands are the commands the EC2 AMI tools bundle an instance with.
type toolCommands struct {
	CertPath, KeyPath string // where the certificate and key go
	Vol, Upload       string // bundle_vol_command and bundle_upload_command, rendered
	CredFile          string // the credentials file ("" with an instance profile)
	CredText          string // its content: secrets
	Manifest          string // the manifest's name
}

// renderTools renders bundle_vol_command and bundle_upload_command. The
// credentials never appear in them: {{.AccessKey}}, {{.SecretKey}} and
// {{.Token}} render as shell variables that the upload command reads from
// CredFile (mode 0600) and which it removes before running.
func renderTools(bc *Bundle, region, prefix, arch string, creds aws.Credentials, random string) (toolCommands, error) {
	tc := toolCommands{
		CertPath: path.Join(bc.UploadPath, "cert.pem"), KeyPath: path.Join(bc.UploadPath, "key.pem"),
		Manifest: prefix + ".manifest.xml",
	}
	vol, err := renderTool("bundle_vol_command", bc.VolCommand, map[string]string{
		"AccountId": bc.AccountID, "Architecture": arch, "CertPath": tc.CertPath, "Destination": bc.Destination,
		"KeyPath": tc.KeyPath, "Prefix": prefix, "PrivatePath": bc.UploadPath,
	})
	if err != nil {
		return tc, err
	}
	token := ""
	if creds.SessionToken != "" {
		token = `"$` + envToken + `"`
	}
	upload, err := renderTool("bundle_upload_command", bc.UploadCommand, map[string]string{
		"AccessKey": `"$` + envAccessKey + `"`, "SecretKey": `"$` + envSecretKey + `"`, "Token": token,
		"BucketName": strings.TrimSuffix(bc.Bucket+"/"+bc.KeyPrefix, "/"), "BundleDirectory": bc.Destination,
		"ManifestName": tc.Manifest, "ManifestPath": path.Join(bc.Destination, tc.Manifest), "Region": region,
	})
	if err != nil {
		return tc, err
	}
	tc.Vol = vol
	tc.CredFile = path.Join(bc.UploadPath, "imgbuild-credentials-"+random)
	tc.CredText = fmt.Sprintf("%s=%s\n%s=%s\n%s=%s\n", envAccessKey, shellQuote(creds.AccessKeyID),
		envSecretKey, shellQuote(creds.SecretAccessKey), envToken, shellQuote(creds.SessionToken))
	tc.Upload = fmt.Sprintf(". %s && rm -f %s && %s", shellQuote(tc.CredFile), shellQuote(tc.CredFile), upload)
	return tc, nil
}

func renderTool(attr, tpl string, data map[string]string) (string, error) {
	return interpolate.Command(attr, tpl, data)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'" }

// withTools bundles the instance with the EC2 AMI tools on it, as Packer
// does: it uploads the certificate and key, runs bundle_vol_command, then
// bundle_upload_command with the credentials in a file, removes the key
// from the instance, and journals the objects the tools wrote.
func (n *bundleVolume) withTools(ctx context.Context, prefix string) error {
	b, bc, region := n.b, n.b.cfg.Bundle, n.b.cfg.Region
	if b.st.comm == nil {
		return fmt.Errorf("bundle instance %s: no communicator to run bundle_vol_command with", b.st.instance.ID)
	}
	creds, err := b.sess.Credentials(ctx)
	if err != nil {
		return fmt.Errorf("read the credentials for bundle_upload_command: %w", err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	arch := "x86_64"
	if b.st.source.Architecture == "i386" {
		arch = "i386"
	}
	for _, sec := range []string{creds.SecretAccessKey, creds.SessionToken} {
		if sec != "" && b.env.AddSecret != nil {
			b.env.AddSecret(sec)
		}
	}
	tc, err := renderTools(bc, region, prefix, arch, creds, hex.EncodeToString(rnd[:]))
	if err != nil {
		return err
	}
	comm := b.st.comm
	for _, f := range [][2]string{{bc.CertPath, tc.CertPath}, {bc.KeyPath, tc.KeyPath}} {
		if err := uploadFile(ctx, comm, check.Resolve(b.env.BaseDir, f[0]), f[1]); err != nil {
			return err
		}
	}
	defer n.removeKeys(tc)
	if err := n.runTool(ctx, "bundle_vol_command", tc.Vol, "is ec2-bundle-vol (the EC2 AMI tools) installed on the instance, and may the user run it with sudo?"); err != nil {
		return err
	}
	if err := comm.Upload(ctx, tc.CredFile, strings.NewReader(tc.CredText), 0o600); err != nil {
		return fmt.Errorf("upload the credentials file for bundle_upload_command to %s: %w", tc.CredFile, err)
	}
	err = n.runTool(ctx, "bundle_upload_command", tc.Upload, "exit status 3 means the bucket belongs to somebody else")
	if aerr := n.adoptObjects(ctx, bc.KeyPrefix+prefix); err == nil {
		err = aerr
	}
	if err != nil {
		return err
	}
	b.st.bundle.manifest = bc.Bucket + "/" + bc.KeyPrefix + tc.Manifest
	return nil
}

// runTool runs one of the tools' commands and fails with its exit status
// and a hint.
func (n *bundleVolume) runTool(ctx context.Context, attr, cmd, hint string) error {
	b := n.b
	b.say("running %s", attr)
	out := b.env.Out
	status, err := b.st.comm.Run(ctx, &provision.Cmd{Command: cmd, Stdout: out, Stderr: out})
	if err != nil {
		return fmt.Errorf("%s on instance %s: %w", attr, b.st.instance.ID, err)
	}
	if status != 0 {
		return fmt.Errorf("%s on instance %s exited with status %d (%s)", attr, b.st.instance.ID, status, hint)
	}
	return nil
}

// removeKeys deletes the uploaded key, certificate and credentials file
// from the instance, whatever happened.
func (n *bundleVolume) removeKeys(tc toolCommands) {
	ctx, cancel := context.WithTimeout(context.Background(), bundleCleanupTimeout)
	defer cancel()
	cmd := "rm -f " + shellQuote(tc.KeyPath) + " " + shellQuote(tc.CertPath) + " " + shellQuote(tc.CredFile)
	if _, err := n.b.st.comm.Run(ctx, &provision.Cmd{Command: cmd}); err != nil {
		n.b.say("warning: could not remove the uploaded key and credentials from instance %s (%v); the instance is terminated at the end of the build", n.b.st.instance.ID, err)
	}
}

// bundleCleanupTimeout bounds the removal of the keys from the instance.
const bundleCleanupTimeout = time.Minute

func uploadFile(ctx context.Context, comm connection, local, remote string) error {
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := comm.Upload(ctx, remote, f, 0o600); err != nil {
		return fmt.Errorf("upload %s to %s: %w", local, remote, err)
	}
	return nil
}
