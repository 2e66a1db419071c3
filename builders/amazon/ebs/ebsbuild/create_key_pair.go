package ebsbuild

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// createKeyPair generates the temporary key in memory (ed25519, or RSA of
// temporary_key_pair_bits) and imports its public half as a key pair named
// imgbuild_<run8>_<build-hash> (or temporary_key_pair_name). The private
// key never touches the disk and is registered as a secret. Cleanup
// deletes the key pair.
type createKeyPair struct {
	b    *build
	name string
	id   string // key pair ID, once created
}

// Run creates the key pair.
func (n *createKeyPair) Run(ctx context.Context) error {
	b := n.b
	region := b.cfg.Region
	name := b.cfg.TemporaryKeyPairName
	if name == "" {
		name = temporaryName(b.env.RunID, b.env.BuildName)
	}
	n.name = name
	signer, public, err := n.generate()
	if err != nil {
		return fmt.Errorf("create temporary key pair %s: %w", name, err)
	}
	tags, err := b.tagger().temporary()
	if err != nil {
		return fmt.Errorf("create temporary key pair %s: %w", name, err)
	}
	ref, err := b.env.Journal.Intent(journal.Resource{Type: journal.KeyPair, Region: region, Build: b.env.BuildName, Name: name, Tags: tags})
	if err != nil {
		return err
	}
	out, err := b.ec2(region).ImportKeyPair(ctx, &ec2.ImportKeyPairInput{
		KeyName: aws.String(name), PublicKeyMaterial: public,
		TagSpecifications: []types.TagSpecification{tagSpec(types.ResourceTypeKeyPair, tags)},
	})
	if err != nil {
		if err := n.failed(ctx, ref, name, err); err != nil {
			return err
		}
	} else {
		n.id = aws.ToString(out.KeyPairId)
		if err := b.env.Journal.Created(ref, n.id); err != nil {
			return err
		}
	}
	b.st.keyName, b.st.signer = name, signer
	b.say("temporary key pair %s created in %s", name, region)
	return nil
}

// failed handles an ImportKeyPair error: a duplicate of this run's own key
// pair (an SDK retry after a lost answer) is adopted; anything else is an
// error, after recording that nothing was created when that is certain.
func (n *createKeyPair) failed(ctx context.Context, ref journal.Ref, name string, err error) error {
	b := n.b
	if awsapi.IsDuplicate(err) {
		out, derr := b.ec2(b.cfg.Region).DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{
			KeyNames: []string{name}, Filters: tagFilters(b.env.RunTags()),
		})
		if derr == nil && len(out.KeyPairs) == 1 {
			n.id = aws.ToString(out.KeyPairs[0].KeyPairId)
			return b.env.Journal.Created(ref, n.id)
		}
	}
	if awsapi.ErrorCode(err) != "" {
		_ = b.env.Journal.NotCreated(ref)
	}
	return fmt.Errorf("create temporary key pair %s in %s: %w", name, b.cfg.Region, err)
}

// generate returns a new signer and its authorized_keys line, and
// registers the private key's PEM text as a secret.
func (n *createKeyPair) generate() (gossh.Signer, []byte, error) {
	var key crypto.Signer
	var err error
	if n.b.cfg.TemporaryKeyPairType == "rsa" {
		key, err = rsa.GenerateKey(rand.Reader, n.b.cfg.TemporaryKeyPairBits)
	} else {
		_, key, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return nil, nil, err
	}
	signer, err := gossh.NewSignerFromSigner(key)
	if err != nil {
		return nil, nil, err
	}
	if n.b.env.AddSecret != nil {
		block, err := gossh.MarshalPrivateKey(key, "")
		if err != nil {
			return nil, nil, err
		}
		n.b.env.AddSecret(string(pem.EncodeToMemory(block)))
	}
	return signer, gossh.MarshalAuthorizedKey(signer.PublicKey()), nil
}

// Cleanup deletes the key pair.
func (n *createKeyPair) Cleanup(ctx context.Context) error {
	if n.id == "" {
		return nil
	}
	region := n.b.cfg.Region
	// By name: the name is unique in the region, and emulators such as
	// moto ignore KeyPairId.
	_, err := n.b.ec2(region).DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(n.name)})
	if err != nil && !awsapi.IsGone(err) {
		return fmt.Errorf("delete temporary key pair %s (%s) in %s, it may be left behind: %w", n.name, n.id, region, err)
	}
	return n.b.env.Journal.Deleted(journal.KeyPair, region, n.id)
}
