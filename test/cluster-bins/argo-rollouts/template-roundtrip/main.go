// Writes pod templates back as the Argo Rollouts controller does: each line of standard input is a JSON pod
// template, read into v1alpha1.RolloutSpec's typed Template and printed with encoding/json (what
// utils/hash.ComputePodTemplateHash hashes, and what the controller's Update writes), one line each, or
// "error: ..." when the controller could not read it. test/canonical-template.test.ts holds
// src/admission/canonical-template.ts to it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		var spec v1alpha1.RolloutSpec
		if err := json.Unmarshal(in.Bytes(), &spec.Template); err != nil {
			fmt.Fprintf(out, "error: %v\n", err)
			continue
		}
		written, err := json.Marshal(spec.Template)
		if err != nil {
			fmt.Fprintf(out, "error: %v\n", err)
			continue
		}
		out.Write(written)
		out.WriteByte('\n')
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "reading: %v\n", err)
		os.Exit(1)
	}
}
