/* loads-agent: not yet. */
#include <stdio.h>

int main(void);
int main(void)
{
    fprintf(stderr, "loads-agent: not yet\n");
    return 2;
}
