package cmd

import "github.com/spf13/cobra"

// applySendConfig fills send flags the user did not give from the
// environment and the selected profile.
func applySendConfig(env *Env, c *cobra.Command, f *sendFlags) error { return nil }
