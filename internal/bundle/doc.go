// Package bundle writes and reads instance-store image bundles in the
// format of the ec2-ami-tools, manifest version 2007-10-10: the format
// EC2's RegisterImage reads from S3 when ImageLocation names a manifest.
//
// A bundle of a raw image named N is made, in one stream, by
//
//   - tar: one GNU-format member named N, owner and group 0, holding the
//     image; the stream is padded to a 10240-byte record as GNU tar pads it;
//   - SHA-1 of that tar stream (the manifest's image digest);
//   - gzip (compressed in parallel blocks, readable by any gunzip);
//   - AES-128-CBC with a random 16-byte key and IV, PKCS#7 padding (what
//     `openssl enc -aes-128-cbc -K KEY -iv IV` writes);
//   - cut into parts of PartSize bytes (10 MiB), N.part.I, each with the
//     SHA-1 of its encrypted bytes.
//
// The manifest N.manifest.xml lists the parts in order and carries the key
// and IV twice, each wrapped with RSA PKCS#1 v1.5: for the user's
// certificate (so the owner can unbundle) and for EC2's bundling
// certificate of the region's partition (so EC2 can decrypt the image at
// launch). As the ec2-ami-tools do, what is wrapped is the lowercase hex
// string of the key and of the IV, not their raw bytes. The manifest is
// signed with the user's private key: RSA PKCS#1 v1.5 over SHA-1 of the
// serialised <machine_configuration> and <image> elements, concatenated.
//
// Part names are zero-padded to the number of digits of an upper bound of
// the part count computed from the image size before bundling starts, so
// that a part can be uploaded the moment it is complete. The ec2-ami-tools
// pad to the digits of the actual count, known only once everything is
// encrypted; EC2 and ec2-download-bundle follow the names in the manifest,
// so the padding is cosmetic.
//
// Nothing is written to disk: Write hands every part to a callback as soon
// as it is complete. Memory stays bounded: (Uploads+2)×PartSize for parts
// (60 MiB with the defaults) plus about 3 MiB per compression worker (a
// 1 MiB block in, its output and the compressor's state); bundling a
// 2 GiB image on 2 cores peaks at about 50 MiB RSS.
package bundle
