package main

import (
	"context"
	"errors"

	"github.com/imgbuild/imgbuild/internal/template"
)

// newDataEvaluator returns what resolves data sources against AWS.
func newDataEvaluator(_ context.Context, _ *env) (template.DataEvaluator, error) {
	return nil, errors.New("-evaluate-datasources: resolving data sources against AWS is not part of this version yet; run validate without it to check the template offline")
}
