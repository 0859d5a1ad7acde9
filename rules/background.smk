# Background and theory demos (owned by the background/theory work; see analysis/ and config).
