// Package ebsbuild runs the amazon-ebs builder: it provides the DAG node of
// every builder step of an amazon-ebs build plan (plan.planEBS) and the
// typed state those nodes share.
//
// It is a sub-package of builders/amazon/ebs only because internal/plan
// imports the ebs package for its Config while the builder contract
// (internal/builder) imports internal/plan: package ebs itself cannot
// implement builder.Build without an import cycle.
//
// # Pipeline
//
// One node per plan step, each in its own file named for its verb:
//
//	resolveSource        describe source_ami or find source_ami_filter; fill the placeholder data
//	createKeyPair        generate a key in memory, import it as a temporary key pair
//	createSecurityGroup  temporary group admitting the communicator port from known CIDRs only
//	launchInstance       RunInstances (client token) and wait until running
//	connectInstance      SSH to the instance ("none": nothing; "winrm": not implemented)
//	stopInstance         stop (or wait for the guest to stop itself), set ENA/SR-IOV
//	createImage          CreateImage in the build region and wait until available
//	copyImage            CopyImage into one target region (client token) and wait
//	finalizeRegion       replace a same-name image, share, set IMDS support, deprecate
//	join                 the build succeeded: tag every final image complete, protect, keep
//
// Every create call carries TagSpecifications with the run tags
// (builder.TagRunID, builder.TagBuild), and temporary resources also carry
// builder.TagTemporary. Every create is journaled: an intent before the
// call, the ID right after it, before any wait.
//
// # Replacing and intermediate images
//
// An image is created under a temporary name ("<name>-imgbuild-<run8>")
// when the final image cannot be created directly: encrypt_boot (the final
// image is an encrypted in-region copy), skip_save_build_region (only the
// copies are kept) or force_deregister with an image of that name already
// present. finalizeRegion then deregisters the old image and copies the
// temporary image to its final name, so an old image is never removed
// before its replacement is available. Temporary images are removed by
// the cleanup of the node that created them, whatever the outcome.
//
// # Cleanup guarantees
//
// The DAG walker calls Cleanup on every node whose Run started, in reverse
// start order, on success, failure or interrupt. Each Cleanup removes what
// its Run created (including what a Run that failed half-way created,
// found by client token, name or tags when the create call's answer was
// lost), records journal.Writer.Deleted, and returns an error naming the
// resource and region that may be left behind when it cannot. Images and
// snapshots are removed only when the build did not succeed (join never
// ran to completion) or when they are intermediate. Deregistration
// protection is enabled by join, after every region succeeded, so a failed
// build never leaves a protected image behind.
package ebsbuild
