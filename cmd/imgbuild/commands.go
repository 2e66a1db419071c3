package main

// commands is the registry of subcommands, one file each (cmd_<name>.go).
// It is filled in init to break the initialization cycle between the table
// and the help text that reads it.
var commands map[string]command

func init() {
	commands = map[string]command{
		"audit":        auditCommand,
		"build":        buildCommand,
		"bundle":       bundleCommand,
		"cleanup":      cleanupCommand,
		"fmt":          fmtCommand,
		"graph":        graphCommand,
		"hcl2_upgrade": hcl2UpgradeCommand,
		"inspect":      inspectCommand,
		"localcloud":   localcloudCommand,
		"plan":         planCommand,
		"validate":     validateCommand,
		"version":      versionCommand,
	}
}
