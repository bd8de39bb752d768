package catalog

import "minikart/platform/apperr"

// ErrProductNotFound is returned for an id that names no product.
var ErrProductNotFound = apperr.New(apperr.NotFound, "PRODUCT_NOT_FOUND", "product not found")
