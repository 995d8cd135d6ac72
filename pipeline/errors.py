"""The exceptions callqa raises: each message says what went wrong and what to do."""


class CallQAError(Exception):
    """Base class for every error callqa reports to its user."""


class ConfigError(CallQAError):
    """Settings or a config file are invalid."""


class ModelNotAvailableError(CallQAError):
    """Whisper weights cannot be found or are damaged."""


class AudioDecodeError(CallQAError):
    """An audio file cannot be read as audio."""


class TranscriptFormatError(CallQAError):
    """A transcript JSON file does not follow the documented format."""


class ScorecardError(CallQAError):
    """A scorecard file is missing or invalid."""


class CallNotFoundError(CallQAError):
    """No stored call matches the given id or path."""


class SidecarError(CallQAError):
    """A CRM sidecar (JSON or CSV) next to a recording cannot be used."""
