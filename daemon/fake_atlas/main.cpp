#include <cstdio>

int main(int argc, char** argv) {
    std::puts("fake-atlas: not built yet");
    return 1;
}
