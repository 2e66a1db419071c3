// Package rootfs turns a root file system read as a tar stream into an
// ext4 file-system image, the raw image an instance-store bundle carries,
// and turns such an image back into a directory tree.
//
// Image filters the stream the way ec2-bundle-vol filters a volume (see
// Exclude) and writes a compact ext4 image (no journal, only the blocks the
// files need) with hcsshim's tar2ext4 into a sparse temporary file. A tar
// member's header carries its size, and an ext4 image built from a stream
// knows its size only at the end, so the image is the one thing a bundle
// build writes to disk; the bundle made from it is streamed.
//
// Extract copies an image's tree out with debugfs (e2fsprogs); it restores
// owners, modes (setuid and setgid included), symbolic links and times.
// The local cloud uses it to boot instances from registered bundles.
package rootfs
