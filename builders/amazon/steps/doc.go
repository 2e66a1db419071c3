// Package steps holds the steps every amazon builder shares, which the
// builders compose: planning functions that add the steps to a build's
// plan (PlanLaunch, PlanStop, PlanCreateImage, PlanRegions, through a
// builder.Planner), the running build (NewBuild) that gives the DAG node of
// each of those steps, and the typed state the nodes share. A builder
// (builders/amazon/ebs, ...) fills a Config from its own configuration,
// plans its pipeline from these functions and its provisioners, and starts
// the build with NewBuild; this package names no builder.
//
// amazon-ebs, for example, plans PlanLaunch, the provisioners, PlanStop
// (unless no_reboot), PlanCreateImage and PlanRegions, then the
// post-processors.
//
// # Pipeline
//
// One node per step kind, each in its own file named for its verb:
//
//	resolveSource        describe source_ami or find source_ami_filter; fill the placeholder data
//	createKeyPair        generate a key in memory, import it as a temporary key pair
//	createSecurityGroup  temporary group admitting the communicator port from known CIDRs only
//	launchInstance       RunInstances (client token) and wait until running
//	connectInstance      SSH to the instance ("none": nothing; "winrm": not implemented)
//	stopInstance         stop (or wait for the guest to stop itself), set ENA/SR-IOV
//	createImage          CreateImage in the build region and wait until available
//	snapshotVolumes      (amazon-ebssurrogate, instead of createImage) snapshot the EBS launch
//	                     volumes the image maps and wait until completed
//	registerImage        RegisterImage from those snapshots and wait until available
//	copyImage            CopyImage into one target region (client token) and wait
//	finalizeRegion       copy an intermediate image to its name, share, set IMDS support, deprecate
//	join                 the build succeeded: protect every final image, keep, tag complete,
//	                     then replace same-name images (swap.go)
//
// Every create call carries TagSpecifications with the run tags
// (tags.RunID, tags.Build), and temporary resources also carry
// tags.Temporary. Every create is journaled: an intent before the
// call, the ID right after it, before any wait. An image's snapshots are
// journaled as soon as the waiter's describe of the pending image lists
// them (awsapi.Waiter.Snapshots), before the rest of the wait.
//
// What an endpoint dropped from a create is put right (verify.go): once
// an image or copy is available, its tags (from the waiter's last
// describe, no new call) and its snapshots' tags (one DescribeSnapshots)
// are compared with those asked, and after sharing, the launch
// permissions are read back (DescribeImageAttribute); what is missing is
// applied (CreateTags, ModifyImageAttribute) with a warning in the log
// and on the user's output.
//
// # Replacing and intermediate images
//
// An image is created under a temporary name ("<name>-imgbuild-<run8>")
// when the final image cannot be created directly: encrypt_boot (the final
// image is an encrypted in-region copy), skip_save_build_region (only the
// copies are kept) or force_deregister with an image of that name already
// present (image names are unique per region). Without an old image,
// finalizeRegion copies the temporary image to its final name at once.
// With one, it only records the swap: join commits the temporary images
// with the final ones, and only then, per region, deregisters the old
// image, copies the temporary image to the final name, commits that copy
// and removes the temporary image (swap.go). An old image is thus never
// removed before the new image of every region is available and
// committed: a region that fails leaves every old image in place.
// Temporary images are removed by the cleanup of the node that created
// them whatever the outcome, unless join committed them.
//
// # Cleanup guarantees
//
// The DAG walker calls Cleanup on every node whose Run started, in reverse
// start order, on success, failure or interrupt, on a context that
// survives the interrupt. Each Cleanup removes what its Run created and
// records journal.Writer.Deleted, deleting through sweep.Delete so that
// the deletion rules live in one place (the builder adds its own waits
// and the removal of the instance's leftover volumes). It returns an
// error naming the resource, its ID and region that may be left behind
// when it cannot.
//
// A create call that fails with an AWS error code was refused: it is
// journaled as not created. One that fails without a code (the context
// was cancelled by an interrupt while the answer was on its way, a
// transport error) or with a server error may have taken effect: its node
// keeps the journal intent as pending, and its Cleanup, which has a live
// context, resolves it with sweep.Resolve (key pair and security group by
// name and run tags, instance by run and build tags and client token,
// image or copy by name and run tags in its region), journals it as
// created or not created, and removes what it found. Run does not look
// such resources up itself: its context is usually the cancelled one. A
// duplicate-name error (an SDK retry of a call that took effect) is
// resolved at once in Run, and the build's own resource adopted.
//
// Images and snapshots are removed only when the build did not succeed or
// when they are intermediate.
//
// # Committing the images
//
// join commits a successful build's final images in this order: enable
// deregistration protection on each (when asked), journal each image and
// its snapshots as kept (the commit point), tag them all
// tags.Complete (the mirror of the commit for a cleanup without the
// journal: a tag sweep treats every image and snapshot of a run and build
// as finished once any of its images carries the tag), and only then mark
// the build as succeeded. A crash before the kept records leaves nothing
// committed, and cleanup removes the images, lifting the protection. A
// failure or interrupt after protection but before the build is marked
// succeeded fails the build: the cleanups remove the images, lifting the
// complete tag join may have set. An interrupt does not cut a protect call
// short: join waits for every call's answer, so that no protection lands
// after the cleanup lifted it. Protection enabled with a cooldown
// cannot be lifted at once: such an image is reported as left behind.
//
// The swaps come after the commit, the build marked succeeded. A kill
// during a swap leaves, for imgbuild cleanup: the committed temporary
// image (kept: never removed), the old image (deregistered or not, as
// the build asked) and the final copy, removed while uncommitted, kept
// once committed; a kill between the final copy's commit and the
// temporary image's removal leaves both kept. A swap that fails fails
// the build with an error naming the temporary image kept in its place;
// join's Cleanup removes an uncommitted final copy.
package steps
