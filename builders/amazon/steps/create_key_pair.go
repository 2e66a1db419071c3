package steps

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/journal"
)

// createKeyPair generates the temporary key in memory (ed25519, or RSA of
// temporary_key_pair_bits) and imports its public half as a key pair named
// imgbuild_<run8>_<build-hash> (or temporary_key_pair_name). The private
// key is registered as a secret and never touches the disk, except in
// -debug mode (saveDebugKey). Cleanup
// deletes the key pair, by name, after looking it up when the
// ImportKeyPair outcome is unknown.
type createKeyPair struct {
	b       *build
	name    string
	id      string         // key pair ID (or name when EC2 gives none), once created
	pending *pendingCreate // the import, when its outcome is unknown
	// debugKey is the file -debug saved the private key to.
	debugKey string
}

// Run creates the key pair.
func (n *createKeyPair) Run(ctx context.Context) error {
	b := n.b
	region := b.cfg.Region
	name := cmp.Or(b.cfg.TemporaryKeyPairName, temporaryName(b.env.RunID, b.env.BuildName))
	n.name = name
	key, signer, public, err := n.generate()
	if err != nil {
		return fmt.Errorf("create temporary key pair %s: %w", name, err)
	}
	tags, err := b.tagger().temporary()
	if err != nil {
		return fmt.Errorf("create temporary key pair %s: %w", name, err)
	}
	intent := journal.Resource{Type: journal.KeyPair, Region: region, Build: b.env.BuildName, Name: name, Tags: tags}
	ref, err := b.env.Journal.Intent(intent)
	if err != nil {
		return err
	}
	out, err := b.ec2(region).ImportKeyPair(ctx, &ec2.ImportKeyPairInput{
		KeyName: aws.String(name), PublicKeyMaterial: public,
		TagSpecifications: []types.TagSpecification{tagSpec(types.ResourceTypeKeyPair, tags)},
	})
	if err != nil {
		// A duplicate of this run's own key pair (an SDK retry after a
		// lost answer) is adopted.
		if n.id, n.pending = b.failedCreate(ctx, ref, intent, err); n.id == "" {
			return fmt.Errorf("create temporary key pair %s in %s: %w", name, region, err)
		}
	} else {
		n.id = cmp.Or(aws.ToString(out.KeyPairId), name)
		if err := b.env.Journal.Created(ref, n.id); err != nil {
			return err
		}
	}
	b.st.keyName, b.st.signer, b.st.privateKey = name, signer, key
	b.say("temporary key pair %s created in %s", name, region)
	if b.env.Debug {
		return n.saveDebugKey()
	}
	return nil
}

// saveDebugKey writes the private key to ec2_<build>.pem in the working
// directory, as Packer's -debug does, so the user can log in while the
// run pauses; Cleanup removes it.
func (n *createKeyPair) saveDebugKey() error {
	n.debugKey = fmt.Sprintf("ec2_%s.pem", n.b.env.BuildName)
	n.b.say("saving key for debug purposes: %s", n.debugKey)
	if err := os.WriteFile(n.debugKey, []byte(n.b.st.privatePEM), 0o600); err != nil {
		return fmt.Errorf("save the debug key: %w", err)
	}
	// WriteFile keeps the mode of a file that exists already.
	if err := os.Chmod(n.debugKey, 0o600); err != nil {
		return fmt.Errorf("save the debug key: %w", err)
	}
	return nil
}

// generate returns a new key, its signer and its authorized_keys line,
// and registers the private key's PEM text as a secret.
func (n *createKeyPair) generate() (crypto.Signer, gossh.Signer, []byte, error) {
	var key crypto.Signer
	var err error
	if n.b.cfg.TemporaryKeyPairType == "rsa" {
		key, err = rsa.GenerateKey(rand.Reader, n.b.cfg.TemporaryKeyPairBits)
	} else {
		_, key, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	signer, err := gossh.NewSignerFromSigner(key)
	if err != nil {
		return nil, nil, nil, err
	}
	block, err := gossh.MarshalPrivateKey(key, "")
	if err != nil {
		return nil, nil, nil, err
	}
	n.b.st.privatePEM = string(pem.EncodeToMemory(block))
	if n.b.env.AddSecret != nil {
		n.b.env.AddSecret(n.b.st.privatePEM)
	}
	return key, signer, gossh.MarshalAuthorizedKey(signer.PublicKey()), nil
}

// Cleanup deletes the key pair, by name: the name is unique in the region,
// and emulators such as moto ignore KeyPairId.
func (n *createKeyPair) Cleanup(ctx context.Context) error {
	_, err := n.b.removeCreated(ctx, n.pending, journal.Resource{Type: journal.KeyPair, Region: n.b.cfg.Region, ID: n.id, Name: n.name})
	if n.debugKey != "" {
		if rerr := os.Remove(n.debugKey); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, fmt.Errorf("remove the debug key: %w", rerr))
		}
	}
	return err
}
