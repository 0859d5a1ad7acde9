# The model-selection chapter (owned by the model-zoo work; see analysis/ and config).
