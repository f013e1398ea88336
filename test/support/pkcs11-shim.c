/*
 * A PKCS#11 module for tests: every call goes to the real module named by PKCS11_SHIM_TARGET (SoftHSM),
 * except C_Sign, which can fail like a token pulled out mid-publish (PKCS11_SHIM_FAIL_AFTER=N: the call
 * after N successful signatures returns CKR_DEVICE_REMOVED) or wait like a token waiting for a touch
 * (PKCS11_SHIM_SIGN_DELAY_MS). PKCS11_SHIM_PIN_FLAGS=locked|final makes C_GetTokenInfo report the user PIN
 * locked or on its final try (SoftHSM never locks); PKCS11_SHIM_LOG=FILE appends one line per C_Login. Built by
 * test/support/softhsm.ts with the headers pkcs11js ships.
 */
#include <stdio.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkcs11.h"

static CK_FUNCTION_LIST shim;
static CK_FUNCTION_LIST_PTR real;
static long signatures;

static CK_RV shim_sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sigLen) {
  const char *delay = getenv("PKCS11_SHIM_SIGN_DELAY_MS");
  if (delay && sig != NULL_PTR) usleep((useconds_t)atol(delay) * 1000);
  const char *after = getenv("PKCS11_SHIM_FAIL_AFTER");
  if (after && sig != NULL_PTR && signatures >= atol(after)) return CKR_DEVICE_REMOVED;
  CK_RV rv = real->C_Sign(s, data, len, sig, sigLen);
  if (rv == CKR_OK && sig != NULL_PTR) signatures++;
  return rv;
}

static CK_RV shim_login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len) {
  const char *log = getenv("PKCS11_SHIM_LOG");
  if (log) {
    FILE *f = fopen(log, "a");
    if (f) {
      fputs("C_Login\n", f);
      fclose(f);
    }
  }
  return real->C_Login(s, user, pin, len);
}

static CK_RV shim_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
  CK_RV rv = real->C_GetTokenInfo(slot, info);
  const char *flags = getenv("PKCS11_SHIM_PIN_FLAGS");
  if (rv == CKR_OK && flags && strcmp(flags, "locked") == 0) info->flags |= CKF_USER_PIN_LOCKED;
  if (rv == CKR_OK && flags && strcmp(flags, "final") == 0) info->flags |= CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW;
  return rv;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
  if (!real) {
    const char *target = getenv("PKCS11_SHIM_TARGET");
    void *lib = dlopen(target ? target : "/usr/lib/softhsm/libsofthsm2.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return CKR_GENERAL_ERROR;
    CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR) = (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(lib, "C_GetFunctionList");
    if (!get || get(&real) != CKR_OK) return CKR_GENERAL_ERROR;
    memcpy(&shim, real, sizeof shim);
    shim.C_Sign = shim_sign;
    shim.C_Login = shim_login;
    shim.C_GetTokenInfo = shim_token_info;
  }
  *list = &shim;
  return CKR_OK;
}
