package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the report for people: what was checked, a table of
// the findings, and the summary line.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "recipes: %s\n", strings.Join(r.Recipes, ", "))
	for _, region := range r.Regions {
		fmt.Fprintf(&b, "approved images in %s: %d\n", region, len(r.Approved[region]))
	}
	if len(r.Instances) > 0 {
		b.WriteString("\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "REGION\tINSTANCE\tIMAGE\tLAUNCHED\tSTATE\tREASON")
		for _, f := range r.Instances {
			reason := f.Reason
			if f.ImageName != "" {
				reason += " (" + f.ImageName + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Region, f.InstanceID, f.ImageID, f.LaunchTime.Format(time.RFC3339), f.State, reason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(&b, "\n%s\n", r.Summary())
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as one indented JSON document. Empty lists
// are [] and never null.
func (r *Report) WriteJSON(w io.Writer) error {
	out := *r
	if out.Instances == nil {
		out.Instances = []Finding{}
	}
	out.Approved = map[string][]string{}
	for k, v := range r.Approved {
		if v == nil {
			v = []string{}
		}
		out.Approved[k] = v
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
