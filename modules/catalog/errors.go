package catalog

import "minikart/platform/apperr"

// ErrProductNotFound is returned for an id that names no product.
var ErrProductNotFound = apperr.New(apperr.NotFound, "PRODUCT_NOT_FOUND", "product not found")

// ErrImageNotFound is returned for a picture this server does not hold.
var ErrImageNotFound = apperr.New(apperr.NotFound, "IMAGE_NOT_FOUND", "image not found")

// ErrUnsupportedImageType is returned for a picture whose bytes are not a
// JPEG, PNG, WebP or GIF image, whatever type it was sent as.
var ErrUnsupportedImageType = apperr.New(apperr.UnsupportedMediaType, "UNSUPPORTED_IMAGE_TYPE", "the picture is not a JPEG, PNG, WebP or GIF image")

// ErrImageMissing is returned for an upload that holds no picture.
var ErrImageMissing = apperr.New(apperr.Invalid, "IMAGE_MISSING", "the request holds no picture")
