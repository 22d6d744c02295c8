"""Publishing to YouTube: the OAuth connection (`auth`), the API client (`client`), the resumable
upload (`upload`), chapters from a film's scenes (`chapters`) and the `publish` job (`publish`)."""
