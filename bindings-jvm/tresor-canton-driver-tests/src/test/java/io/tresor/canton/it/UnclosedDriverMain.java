package io.tresor.canton.it;

import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriver;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import io.opentelemetry.context.Context;
import io.tresor.canton.conformance.DriverLoading;
import io.tresor.canton.conformance.RecordingLoggerFactory;
import java.nio.file.Path;
import scala.Option;
import scala.concurrent.Await;
import scala.concurrent.ExecutionContext;
import scala.concurrent.duration.Duration;

/** Creates a driver, uses its runtime threads, and returns from main without closing it (ExitTest runs it). */
public final class UnclosedDriverMain {
  public static void main(String[] args) throws Exception {
    var factory = DriverLoading.findFactory("tresor");
    Object config = factory.configReader().from(Backends.software(Path.of(args[0]), "exit-test")).toOption().get();
    KmsDriver d = (KmsDriver) factory.create(config, new RecordingLoggerFactory(System.err), ExecutionContext.global());
    for (int i = 0; i < 20; i++) {
      Await.result(d.generateSigningKeyPair(SigningKeySpec.EcP256$.MODULE$, Option.empty(), Context.root()), Duration.apply(60, "s"));
    }
    System.out.println("done, not closing");
  }
}
