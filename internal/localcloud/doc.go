// Package localcloud runs a realistic EC2 endpoint on loopback for tests,
// benchmarks and users trying templates: moto_server as the state of record,
// a realism layer (an HTTP reverse proxy) in front of it, and a real Linux
// guest per instance. It is test and demo infrastructure, never part
// of a real build. Start it with [Start] or `imgbuild localcloud`; tests use
// testenv.LocalCloud.
//
// # Endpoints
//
// Everything is served on one loopback URL (AWS_ENDPOINT_URL). Requests
// signed for service "ec2" (or unsigned form posts with Version=2016-11-15)
// go through the layer; S3, SSM, STS and the rest pass through to moto
// untouched. GET /_localcloud/stats returns [Stats] as JSON; POST
// /_localcloud/reset-stats zeroes them. GET /_localcloud/ec2-certificate
// returns the PEM certificate of the cloud's EC2 bundling key (below;
// also [Cloud.EC2Certificate]): templates set ec2_cert_path to it. POST
// /_localcloud/publish-image publishes a newer public image like a
// catalogue image in every region, as AWS does on patch Tuesday
// (publish.go; also [Cloud.PublishImage] and `imgbuild localcloud
// publish-image`). [Stats] counts SSM requests too (ssmstats.go), so that
// tests can count every mutating call.
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
// "region/name", so "eu-west-1/*" fails only copies to eu-west-1), bundle
// (duration: the least time a bundle task spends pending, bundling and
// storing; 10s in the realistic profiles, none in instant), fail-bundles
// (a glob of bundle prefixes, "bucket/prefix" when it has a "/", whose
// BundleInstance task fails) and seed.
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
// ignores them), CopyImage and RunInstances ClientToken idempotency (moto
// copies or launches again), CreateLaunchTemplateVersion SourceVersion
// (moto ignores it: the new version keeps the source version's settings
// the request does not set), rootDeviceType "standard" reported as "ebs",
// CreateFleet of type instant (fleet.go: moto runs the instances at once
// with no guest; the layer makes them pending, boots their guests from
// the launch template and answers a repeated ClientToken, which crashes
// moto), the spot instance request ID of a fleet's instance (moto omits
// it), DeleteFleets with TerminateInstances once the instances are gone
// (moto fails) and CreateLaunchTemplate ClientToken idempotency.
//
// Guests: each instance gets its own loopback address 127.0.X.Y, reported
// as its public and private IP and DNS names. With the ssh setting on (every
// profile), each Linux instance is a real Linux system (package
// internal/guest): a copy-on-write overlay over its image's content layers
// and a minimal Debian base system (debootstrap minbase plus
// openssh-server, sudo and ca-certificates, made once from the host apt's
// own mirror and cached in ~/.cache/imgbuild/localcloud), its own mount,
// PID and UTS namespaces (hostname ip-127-0-X-Y), and its own sshd on port
// 22 of its address. Every Linux AMI name boots this system:
// /etc/os-release says Debian. The login users ec2-user, ubuntu and admin
// exist inside the guest with passwordless sudo and get the launch key pair
// (CreateKeyPair or ImportKeyPair) at first boot; root does not log in.
// Guests share the host's network namespace, so apt reaches the host's
// package registry. StopInstances ends the guest's processes and keeps its
// disk; StartInstances boots it again; RebootInstances, and reboot or
// shutdown -r inside the guest, restart its processes; TerminateInstances
// removes the disk.
//
// Windows instances (platform windows: moto's old Windows images and the
// catalogue's Windows Server 2019 and 2022 Full Base) get a simulated
// Windows guest instead (windows.go, package internal/winguest): a real
// WS-Management endpoint on ports 5985 (HTTP) and 5986 (HTTPS with a
// self-signed certificate), Basic and NTLM, answering after the
// windows-boot delay; a random Administrator password that GetPasswordData
// returns encrypted with the launch key pair's RSA key (a `net user <name>
// <password>` line in the user data sets a password instead); a disk
// whose files become the image's content. It does not run PowerShell: it
// records every command, script and file in a per-instance log
// ([Cloud.GuestLog], GET /_localcloud/guests/<region>/<instance>/log),
// answers the command shapes imgbuild sends (file transfer, restart,
// restart check, elevated task, Sysprep), fails the commands matching the
// fail-commands glob, drops its connections for windows-restart after a
// restart, and stops the instance by itself (after the sysprep delay)
// when it receives an AWS agent's Sysprep command with shutdown.
//
// First boot: once per instance, as cloud-init does, the guest makes new
// host keys, installs the launch key and runs the user data as root (the
// subset package cloudinit compiles), with its output in
// /var/log/cloud-init-output.log; `cloud-init status [--wait] [--long]`
// answers from the guest's boot.
//
// Images carry content: CreateImage captures the instance's disk (its
// overlay upper directory) as a layer, stopping the guest around the
// capture unless NoReboot is set; CreateSnapshot of a root volume does the
// same for the snapshot; RegisterImage boots its root device's snapshot;
// CopyImage and an image's snapshots share the layers (content-addressed by
// SHA-256, no bytes copied). A layer is deleted when no image, snapshot,
// volume or instance holds it; everything lives in [Cloud.StateDir], which
// Close removes.
//
// Volumes: an EBS volume of a RunInstances block device mapping other than
// the root device is, for a Linux guest, a directory mounted read-write at
// /mnt/ and the device name without /dev/ (/dev/xvdf: /mnt/xvdf, /dev/sdf:
// /mnt/sdf): there is no block device to format or mount, and `mountpoint
// /mnt/xvdf` holds. Its content is kept apart from the instance's disk
// (volumes/ in the state directory); made from the mapping's snapshot, it
// starts with the snapshot's content. It survives StopInstances, and
// TerminateInstances unless the mapping deletes it on termination, until
// DeleteVolume. CreateSnapshot of it captures its content as the
// snapshot's layer (without stopping the guest), so an image registered
// with that snapshot as its root device boots the volume's content over
// the base system. The host mounts each volume under the guest's /run
// before the switch of root, and the guest's init moves it into place, so
// that the guest's own symlinks resolve inside the guest.
//
// Images registered from snapshots (RegisterImage without ImageLocation,
// which moto reduces to a name): the layer refuses TagSpecifications for
// anything but the image (InvalidParameterValue), a snapshot that does
// not exist (InvalidSnapshot.NotFound) and a volume smaller than its
// snapshot (InvalidBlockDeviceMapping), as EC2 does. DescribeImages shows
// what was asked instead of moto's defaults: root device name, root
// device type ebs, block device mappings (volume size defaulting to the
// snapshot's, type gp2, deleted on termination), architecture (default
// i386), virtualization type (default paravirtual), boot mode, ENA,
// SR-IOV, TPM and IMDS support; moto's own snapshot of the image is hidden
// and deleted with it. A copy shows the same with its own snapshots:
// moto's snapshot of the copy for the root device, and a new snapshot
// sharing the source's content for every other EBS mapping with one.
// DeleteSnapshot of a snapshot such an image maps fails with
// InvalidSnapshot.InUse while the image exists.
//
// Instance-store images: the cloud has its own EC2 bundling key (RSA
// 2048 and a self-signed certificate, made once per process and shared by
// the clouds it starts; AWS's certificates are not it), which plays the
// part of EC2's certificate of a partition. RegisterImage with an
// ImageLocation (bucket/path/name.manifest.xml) reads the manifest from
// moto's S3, unwraps the bundle's key with the cloud's key, reads every
// part (checking its SHA-1) and the image digest, and answers
// InvalidManifest (the EC2 API reference's code for an unparsable or
// unreadable manifest) when the manifest is missing or does not parse, a
// part is missing or damaged (the message names it) or the bundle was made
// for another EC2 certificate (AWS's, say); nothing is registered then.
// With guests, the ext4 image inside (package internal/rootfs) becomes the
// image's content layer; without, the image has no content. DescribeImages
// shows such an image with root device type instance-store, its
// ImageLocation, image type machine, the architecture (request, else
// manifest), virtualization type (request, else paravirtual), root device
// name (request, else the manifest's root mapping) and only the manifest's
// ephemeral mappings, and moto's snapshot of the image is not shown.
// DescribeImages applies the filters architecture, image-type,
// manifest-location, platform, root-device-name, root-device-type and
// virtualization-type itself, to every image as it shows it (moto's
// values differ for the images it registered, and it lacks
// manifest-location). Instances of an
// instance-store image (the catalogue's too) have root device type
// instance-store and no EBS root mapping, and StopInstances refuses them
// with UnsupportedOperation, as EC2 does. CopyImage of one copies the
// bundle, as EC2 does, into the bucket
// amis-for-<account>-in-<region>-<hash> of the destination region (under
// <new image ID>/, the copy's ImageLocation) and shares the content layers.
//
// BundleInstance, DescribeBundleTasks (BundleId.N; filters bundle-id,
// error-code, error-message, instance-id, progress, s3-bucket, s3-prefix,
// start-time, state, update-time, with * and ? wildcards) and
// CancelBundleTask: BundleInstance checks the Windows instance (running)
// and the upload policy: base64 JSON with an expiration in the future,
// the conditions bucket = Storage.S3.Bucket and acl = ec2-bundle-read, and
// a ["starts-with", "$key", ...] condition, if any, that admits the
// prefix; its signature must be base64(HMAC-SHA1(secret key, policy)) for
// Storage.S3.AWSAccessKeyId. The cloud knows the secret key of the
// credentials it hands out only ([AccessKeyID], [SecretAccessKey], in
// [Cloud.Env]), so another access key is refused (InvalidClientTokenId)
// and a wrong signature too (SignatureDoesNotMatch). The task goes
// pending, waiting-for-shutdown (the instance stops), bundling (progress
// rising to 70%), storing (to 99%), complete, and the instance starts
// again (also after a failure or a cancel). The bundle is a real one of
// the guest's disk (its own files over its image's layers; empty without
// guests): rootfs.TarDir, rootfs.Image, then bundle.Write with the cloud's
// key as both EC2's and the user's, so the cloud can verify and unbundle
// it; parts, then <prefix>.manifest.xml, go to the bucket (created when
// missing) with the ACL aws-exec-read (moto knows no ec2-bundle-read).
// RegisterImage of bucket/<prefix>.manifest.xml then gives a Windows
// instance-store image whose instances get that disk. CancelBundleTask
// moves a task to cancelling, then failed (error Client.Cancelled); a
// complete or failed task cannot be cancelled (IncorrectState). AWS
// documents no clean-up on cancel, and the cloud removes nothing either:
// the parts stored before a cancel in storing stay (the manifest goes
// last, so it is never there); the client deletes them.
//
// AMI catalogue: besides moto's own images (old Windows, SUSE and Ubuntu
// images in every region and, per region, the latest Amazon Linux ones of
// owner 137112412989), every region offers Amazon's
// Windows_Server-{2019,2022}-English-Full-Base-2024.{10.09,11.13} (owner
// 801119661308, platform windows) and Canonical's Ubuntu server
// images (owner 099720109477, public):
// ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-2024{0607,0701} and
// ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-2024{0607,0701},
// and Amazon's instance-store Amazon Linux AMI builds
// amzn-ami-hvm-2018.03.0.{20230905,20231218}.0-x86_64-s3 (owner
// 137112412989, alias amazon, root device type instance-store; their
// instances boot the standard Linux guest), so real templates'
// source_ami_filter blocks resolve (most_recent picks the later build). IDs derive from region and name: stable, different per region.
// moto reads its catalogue from its package's data files, so moto_server
// imports moto through an overlay first on PYTHONPATH (symbolic links to
// the installed package, with ec2/resources/latest_amis holding copies of
// moto's files plus these images), made per cloud in a temporary directory
// and removed when moto stops; the installed package is not changed.
// StartMoto (plain moto) has none of them. moto reports no EnaSupport,
// SriovNetSupport, PlatformDetails or UsageOperation, and every root
// device as a 15 GiB standard volume.
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
// Guests see the volumes of RunInstances' own block device mappings only:
// not those of an image's other mappings (moto makes none), nor volumes
// from CreateVolume and AttachVolume. CreateSnapshot's snapshots are
// completed at once. DescribeImages filters on block device mappings see
// moto's values for registered images. BundleInstance also
// bundles EBS-backed Windows instances (EC2 bundles instance-store ones
// only, and has no instance-store Windows image left) and does not check
// that the bucket is the caller's; RegisterImage does not check that the
// manifest's account is the caller's. Bundle tasks stay listed while the
// cloud runs. moto still lists the EBS root volume it made for an
// instance-store instance in DescribeVolumes.
// Guests need root and Linux: without them Start refuses guests with a
// clear error (set ssh=false to run instances without them); nothing runs
// on the host instead. There is no instance metadata service: scripts
// calling 169.254.169.254 fail. shutdown and poweroff inside a guest end
// its processes but EC2 keeps reporting the instance running. Times given
// to shutdown are ignored (it acts at once).
package localcloud
