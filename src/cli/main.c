#include <stdio.h>
int main(int argc, char **argv) {
    (void)argc; (void)argv;
    puts("ragbatch: under construction");
    return 0;
}
