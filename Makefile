# gemma4c — the two commands of the README:
#   make demo   install dependencies, build, compile the bundled model, run it
#   make test   install dependencies, build, run every test
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: all deps configure build test demo clean

all: build

deps:
	bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	bash scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)
