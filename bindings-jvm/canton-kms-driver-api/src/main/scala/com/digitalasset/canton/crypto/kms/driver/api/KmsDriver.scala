// Part of tresor. Canton's KMS driver API, declared from the facts in spec/canton-compat.md §1/§1a.
package com.digitalasset.canton.crypto.kms.driver.api

/** Version-less marker of a KMS driver. */
trait KmsDriver
