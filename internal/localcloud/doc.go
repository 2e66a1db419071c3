// Package localcloud runs a realistic EC2 endpoint on loopback for tests,
// benchmarks and users trying templates: moto_server as the state of record,
// a realism layer (an HTTP reverse proxy) in front of it, and one real
// OpenSSH sshd per instance. It is test and demo infrastructure, never part
// of a real build. Start it with [Start] or `imgbuild localcloud`; tests use
// testenv.LocalCloud.
//
// # Endpoints
//
// Everything is served on one loopback URL (AWS_ENDPOINT_URL). Requests
// signed for service "ec2" (or unsigned form posts with Version=2016-11-15)
// go through the layer; S3, SSM, STS and the rest pass through to moto
// untouched. GET /_localcloud/stats returns [Stats] as JSON; POST
// /_localcloud/reset-stats zeroes them.
//
// # Profiles and settings
//
//   - instant: no delays, no faults; moto plus the API fixes below.
//   - realistic: instances boot in ~3s (stop and terminate ~2s), images
//     become available in ~5s, copies in ~8s, +-20% jitter, 20ms per request.
//   - hostile: realistic plus EC2's request token buckets (RequestLimitExceeded,
//     HTTP 503, per region and action category as documented by AWS), 5% of
//     EC2 requests failing with InternalError (HTTP 500), and new instance,
//     image and snapshot IDs answering Invalid*.NotFound for 2s to calls
//     that name them.
//
// Every field of [Settings] can be overridden by name with [Settings.Set],
// from `imgbuild localcloud --set name=value` or from the environment
// variable [EnvName] (IMGBUILD_LOCALCLOUD_<NAME>): boot, stop, terminate,
// image, copy, latency, consistency (durations), jitter, fault-rate (0..1),
// throttle, ssh, consistency-lists (booleans), fail-images (a glob: images whose name matches
// end in state failed with a StateReason; a glob with a "/" matches
// "region/name", so "eu-west-1/*" fails only copies to eu-west-1) and seed.
//
// # What the layer changes
//
// State progressions: RunInstances/StartInstances report pending, then
// running; StopInstances stopping, then stopped; TerminateInstances
// shutting-down, then terminated; CreateImage, RegisterImage and CopyImage
// (in the destination region) report pending, then available or failed.
// moto's own state shows once the duration has passed. The snapshots of an
// image being made by CreateImage or CopyImage are pending while it is,
// with a progress growing with elapsed time ("37%"), completed at 100% once
// it is available, and in state error when it failed.
//
// APIs moto lacks: EnableImageDeprecation/DisableImageDeprecation (shown as
// DeprecationTime), EnableImageDeregistrationProtection/
// DisableImageDeregistrationProtection (shown as DeregistrationProtection;
// DeregisterImage fails with OperationNotPermitted while protected, and for
// 24h after a disable when enabled WithCooldown).
//
// moto fixes: CreateImage snapshot TagSpecifications (moto crashes),
// RegisterImage and CopyImage TagSpecifications and CopyImageTags (moto
// ignores them), CopyImage ClientToken idempotency (moto copies again),
// rootDeviceType "standard" reported as "ebs".
//
// Machines: each instance gets its own loopback address 127.0.X.Y, reported
// as its public and private IP and DNS names. When the process runs as root
// and SSH is on, an sshd listens on port 22 of that address and accepts the
// instance's launch key pair (from CreateKeyPair or ImportKeyPair) for the
// logins ec2-user, ubuntu, admin and root; commands, shells and SFTP run as
// an unprivileged account in a per-instance home directory (root logins run
// as ec2-user). Missing login accounts are created with useradd (see
// sshd.EnsureAccounts), so run the cloud as root only on a dedicated test
// machine. Without root, sshd listens on a free port of the instance address
// (see [Cloud.SSHAddr]) and only accepts the invoking user: set the
// template's ssh_port and ssh_username accordingly. Stopping or terminating
// an instance stops its sshd and kills its sessions.
//
// # Limitations
//
// State filters in DescribeImages/DescribeInstances see moto's state, not the
// transitional one. Pending images can be launched and copied. Eventual
// consistency hides new instances, images and snapshots (those of new
// images included) from requests naming them; with the consistency-lists
// setting also from DescribeInstances, DescribeImages and DescribeSnapshots
// results (off in every profile: imgbuild's cleanup does not cope with
// lagging lists yet); other resources and actions see them at once.
// RegisterImage keeps moto's defaults for architecture, block devices and
// the other attributes it ignores. BundleInstance is not implemented. sudo
// does not exist on the machines: commands run unprivileged.
package localcloud
