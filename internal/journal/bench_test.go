package journal

import (
	"fmt"
	"testing"
)

// BenchmarkIntentCreated measures journaling one resource: an intent and
// its created record, each written and fsync'd.
func BenchmarkIntentCreated(b *testing.B) {
	_, w := createRun(b, "bench")
	r := Resource{Type: Instance, Region: "us-east-1", Build: "web", ClientToken: "tok",
		Tags: map[string]string{"imgbuild:run-id": "bench", "Name": "web"}}
	i := 0
	for b.Loop() {
		ref, err := w.Intent(r)
		if err != nil {
			b.Fatal(err)
		}
		i++
		if err := w.Created(ref, fmt.Sprint("i-", i)); err != nil {
			b.Fatal(err)
		}
	}
}
