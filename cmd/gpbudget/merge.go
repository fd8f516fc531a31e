package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/urfave/cli/v2"
)

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "check a sharded run's shards and mark the run complete",
		ArgsUsage: "DIR",
		Description: "Checks that DIR holds every shard of one run (same scenario, seed, replications\n" +
			"and program version), each complete with all its files, and writes DIR/manifest.json\n" +
			"saying the merged run is complete. The part files stay where the shards wrote them.\n" +
			"Refuses, naming the shard, if any is missing, incomplete or from another run.",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return badInput("merge: name one run folder, e.g. gpbudget merge results")
			}
			return runMerge(c.Context, streamsOf(c), c.Args().First())
		},
	}
}

// runMerge checks dir's shards and marks the run complete.
func runMerge(_ context.Context, w streams, dir string) error {
	man, err := rundir.Merge(dir)
	var re *rundir.RefusedError
	if errors.As(err, &re) {
		return inputError{err}
	}
	if err != nil {
		return err
	}
	if len(man.Merged) == 0 {
		fmt.Fprintf(w.out, "%s is a complete single-process run: nothing to merge\n", dir)
		return nil
	}
	fmt.Fprintf(w.out, "%s: merged %d shards of %q (seed %d, %d replications x %d years x %d practices): %d rows in %d files; manifest %s/%s\n",
		dir, len(man.Merged), man.ScenarioName, man.Seed, man.Replications, man.Years, man.Practices,
		man.Rows, len(man.Files), dir, runfolder.ManifestName)
	return nil
}
