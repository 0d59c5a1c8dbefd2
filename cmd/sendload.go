package cmd

import "github.com/spf13/cobra"

// loadFlags are send's load-mode flags (--count, --concurrency, ...).
type loadFlags struct{}

func (l *loadFlags) register(c *cobra.Command) {}

// active reports whether load mode was asked for.
func (l *loadFlags) active() bool { return false }

func runLoad(env *Env, f *sendFlags, plan *sendPlan) error { return nil }
