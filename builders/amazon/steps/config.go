package steps

import "github.com/imgbuild/imgbuild/builders/amazon"

// Config is what the shared steps read: the configuration every amazon
// builder shares and the settings of the image and instance that a
// builder adds to it. A builder fills it from its own prepared Config.
type Config struct {
	amazon.SourceConfig

	// BuilderType is the source type of the builder, e.g. "amazon-ebs",
	// for messages and the {{ .BuildType }} placeholder.
	BuilderType string
	// SkipAMIRunTags stops run_tags from also being applied to the image
	// and its snapshots.
	SkipAMIRunTags bool
	// RunVolumeTags are applied to the volumes of the build instance.
	RunVolumeTags map[string]string
	// NoEphemeral removes the source image's instance store mappings from
	// the launch.
	NoEphemeral bool
	// NoReboot creates the image without stopping or rebooting the
	// instance.
	NoReboot bool
	// Bundle, for amazon-instance, is where and how the instance-store
	// bundle is made; nil for the EBS builders.
	Bundle *Bundle
	// Register, for amazon-ebssurrogate, says how the image is registered
	// from snapshots of the launch volumes; nil for the other builders.
	Register *Register
}
