// Package sweep removes the cloud resources a build run left behind: the
// engine of `imgbuild cleanup`.
//
// # Deleting
//
// Delete removes one journaled resource with EC2's semantics. A resource
// that is already gone counts as removed, so every call is idempotent and
// a second sweep finds nothing to do. A NotFound (or a deregistered image)
// from a call naming the ID is not taken for "gone" at once: EC2 is
// eventually consistent and a just-created ID answers NotFound for a
// while. A describe filtered by the ID and the run tag (when the record
// has it) confirms the absence; while it still lists the resource, the
// delete is tried again within the NotFound grace (gone.go).
// TerminateInstances answering NotFound is handled the same way.
//
//   - instance: TerminateInstances, then wait until it is terminated, so
//     that its security group, key pair and volumes are free.
//   - security-group: DeleteSecurityGroup, retried on DependencyViolation
//     for up to SecurityGroupWait while the instance's network interface
//     detaches.
//   - key-pair: DeleteKeyPair by name (the journaled name, or the name of
//     the key pair ID), which every EC2 implementation honours.
//   - image: if deregistration protection is on, it is disabled first; an
//     image still protected by a cooldown is reported as a
//     *ProtectedError ("protected with cooldown until ..."). The image's
//     snapshots are read from its block device mappings before
//     DeregisterImage and deleted after it.
//   - snapshot: DeleteSnapshot. volume: DeleteVolume.
//   - bucket-object: S3 DeleteObject; the ID is "<bucket>/<key>".
//   - fleet (the instant EC2 fleet of a spot launch): DeleteFleets with
//     TerminateInstances (which EC2 requires for an instant fleet; its
//     instance, an earlier leftover, is terminated by then). A fleet not
//     listed or already in a deleted state is gone.
//   - launch-template (a spot launch's temporary template):
//     DeleteLaunchTemplate by ID.
//
// An image or snapshot tagged imgbuild:complete is a finished build's
// output: Delete refuses it with ErrComplete and FindByTags never returns
// it. DeleteWaiting is Delete with the builder's wait timeouts.
//
// A build journals its final images as kept before it tags them
// imgbuild:complete; Finish sets the tag on a run's kept images and
// snapshots, so that a journal cleanup after a crash in between leaves
// them marked for later tag sweeps.
//
// # Resolving
//
// A journal intent without an ID means the process died between a create
// call and recording its result, or the call failed without saying
// whether it took effect (a builder's cleanup resolves those). Resolve
// looks in the intent's region for what the call may have created:
// instances by run and build tags, matching the client token in the
// results (by client-token filter only when the intent has no run tag),
// key pairs and security groups by name and, when the intent has them,
// run and build tags; images and copies by name and run and build tags;
// launch templates by name and run and build tags; fleets by run and
// build tags (DescribeFleets has no tag filter: they are matched in the
// results, with the client token when EC2 reports it).
// It returns ErrNotFound when nothing was created, which the caller
// journals as not created.
//
// # Checking the account
//
// A build journals its access when its session is made (AccessRecord: the
// account ID and caller from sts GetCallerIdentity, and the profile, role
// ARN, credentials file and EC2 endpoint that chose them; never a
// secret). A Cleaner cleans up a run build by build: it asks its
// Connector for each build's access (Sessions: the environment's
// credentials, or with `imgbuild cleanup TEMPLATE` the access of that
// build in the template, reaching EC2 through the endpoint the build
// recorded) and compares the accounts. A build made in another account is
// refused with an *AccessError and not touched; the other builds are
// cleaned up, and the run stays open for a cleanup with the right access.
// When no build can be cleaned up, the run is not even taken over. A run
// that recorded no account (written before journal format 2, or a build
// with skip_credential_validation) is cleaned up with an AccessUnchecked
// note. Tag sweeps search with the environment's credentials: what they
// find is in that account by construction.
//
// # Finding by tags
//
// When the journal is lost, FindByTags lists every resource carrying the
// imgbuild:run-id tag in the given regions and older than a guard age:
// instances not terminated (LaunchTime), images and snapshots owned by the
// account (CreationDate, StartTime), volumes (CreateTime), key pairs
// (CreateTime), security groups, launch templates (CreateTime) and fleets
// not deleted (CreateTime). A build tags its final images
// complete one region at a time, so a crash while tagging leaves only some
// tagged: when any image of a run and build carries imgbuild:complete,
// every image and snapshot of that run and build is its finished output
// and is not returned as a leftover; those of them still lacking the tag
// are returned apart, and Cleaner.ByTags tags them complete (MarkComplete)
// so that a later sweep of fewer regions, which may not see the tagged
// ones, keeps them too. A security group has no creation time:
// it counts as old as the oldest other resource of the same run found in
// the sweep, and a group found alone (its instance and key pair already
// gone) is swept only with a guard of zero (--older-than 0s). Order sorts
// what it returns for deletion: instances first, then security groups, key
// pairs, images, snapshots, volumes and bucket objects, then the other
// types (fleets, launch templates).
package sweep
