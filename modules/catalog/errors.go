package catalog

import "minikart/platform/apperr"

// ErrProductNotFound is returned for an id that names no product.
var ErrProductNotFound = apperr.New(apperr.NotFound, "PRODUCT_NOT_FOUND", "product not found")

// ErrImageNotFound is returned for a picture this server does not hold.
var ErrImageNotFound = apperr.New(apperr.NotFound, "IMAGE_NOT_FOUND", "image not found")
