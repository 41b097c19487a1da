#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ca_policy.h"
#include "ca_text.h"


#define CA_TEXT_NAME(id, name)  name,

static const char  *ca_text_names[CA_T_COUNT] = {
    CA_TEXTS(CA_TEXT_NAME)
};


/* Wording after the brands' own help pages (Magic, Nuxit, Axarnet, OVH). */

static const char  *ca_text_es[CA_T_COUNT] = {
    [CA_T_BRAND] = "",
    [CA_T_SUPPORT_CONTACT] = "",
    [CA_T_AREA] = "Área de cliente",
    [CA_T_LANGUAGE] = "Idioma",
    [CA_T_LOGIN_TITLE] = "Acceso a mi área de cliente",
    [CA_T_LOGIN_INTRO] = "Introduzca su identificador y su contraseña.",
    [CA_T_LOGIN_BUTTON] = "Conexión",
    [CA_T_PASSWORD] = "Contraseña",
    [CA_T_FORGOT] = "¿Ha olvidado su contraseña?",
    [CA_T_SHOW_PASSWORD] = "Mostrar la contraseña",
    [CA_T_ID_EMAIL] = "dirección de correo electrónico",
    [CA_T_ID_CUSTOMER_NUMBER] = "número de cliente",
    [CA_T_ID_NIC] = "NIC handle",
    [CA_T_ID_PHONE] = "número de teléfono",
    [CA_T_ID_DOMAIN] = "dominio",
    [CA_T_ID_OR] = "o",
    [CA_T_INVALID_CREDENTIALS] =
        "El identificador o la contraseña no son correctos.",
    [CA_T_LOGGED_OUT] = "Ha cerrado la sesión correctamente.",
    [CA_T_PASSWORD_CHANGED] =
        "Su contraseña ha sido cambiada. Conéctese con la nueva contraseña.",
    [CA_T_NEED_LOGIN] = "Debe conectarse para ver esta página.",
    [CA_T_TOO_MANY_TITLE] = "Demasiados intentos",
    [CA_T_TOO_MANY] =
        "Demasiados intentos de conexión. Espere {n} antes de volver a "
        "intentarlo, o restablezca su contraseña.",
    [CA_T_LOCKED_TITLE] = "Cuenta bloqueada",
    [CA_T_LOCKED] =
        "Este usuario está bloqueado. Póngase en contacto con el soporte "
        "para desbloquearlo.",
    [CA_T_SUPPORT] = "Soporte: {n}",
    [CA_T_RESET_TITLE] = "¿Ha olvidado su contraseña?",
    [CA_T_RESET_INTRO] =
        "No es posible recuperar la contraseña, pero puede establecer una "
        "nueva. Introduzca su identificador y le enviaremos un enlace.",
    [CA_T_RESET_BUTTON] = "Enviar",
    [CA_T_RESET_LINK] = "Pedir un nuevo enlace",
    [CA_T_BACK_TO_LOGIN] = "Volver a la pantalla de inicio de sesión",
    [CA_T_SENT_TITLE] = "Su solicitud ha sido enviada",
    [CA_T_SENT] =
        "Si el identificador corresponde a una cuenta, su dirección de "
        "correo electrónico recibirá un enlace para establecer una nueva "
        "contraseña. El enlace sólo sirve una vez y expira después de "
        "unas horas.",
    [CA_T_SENT_SPAM] =
        "A veces este correo llega a la carpeta de spam: compruébela "
        "también.",
    [CA_T_NEW_TITLE] = "Establecer una nueva contraseña",
    [CA_T_NEW_PASSWORD] = "Nueva contraseña",
    [CA_T_NEW_CONFIRM] = "Repita la nueva contraseña",
    [CA_T_NEW_BUTTON] = "Definir",
    [CA_T_RULES_TITLE] = "Su contraseña debe tener:",
    [CA_T_RULES_BROKEN] = "La contraseña no cumple estas reglas:",
    [CA_T_GENERATE] = "Generar una contraseña",
    [CA_T_GENERATED] =
        "Contraseña generada y mostrada: guárdela en un lugar seguro.",
    [CA_T_RULE_TOO_SHORT] = "Al menos {n} caracteres",
    [CA_T_RULE_TOO_LONG] = "Como máximo {n} bytes",
    [CA_T_RULE_NO_UPPER] = "Una letra mayúscula",
    [CA_T_RULE_NO_LOWER] = "Una letra minúscula",
    [CA_T_RULE_NO_DIGIT] = "Un número",
    [CA_T_RULE_NO_SPECIAL] = "Un carácter especial",
    [CA_T_RULE_WHITESPACE] = "Ningún espacio en blanco",
    [CA_T_RULE_IDENTIFIER] = "No ser su identificador",
    [CA_T_RULE_COMMON] = "No ser una contraseña demasiado común",
    [CA_T_RULE_REUSED] = "No ser una de sus últimas {n} contraseñas",
    [CA_T_RULE_MISMATCH] = "Las dos contraseñas coinciden",
    [CA_T_RULE_INVALID] = "Sólo caracteres imprimibles",
    [CA_T_GONE_TITLE] = "Este enlace ya no es válido",
    [CA_T_GONE] =
        "Este enlace es desconocido, ya se ha utilizado o ha expirado.",
    [CA_T_BAD_TITLE] = "Solicitud incorrecta",
    [CA_T_BAD_REQUEST] = "No se ha podido entender la solicitud.",
    [CA_T_MISSING_LOGIN] =
        "Introduzca su identificador y su contraseña.",
    [CA_T_MISSING_IDENTIFIER] = "Introduzca su identificador.",
    [CA_T_MISSING_NEW] = "El enlace y la nueva contraseña son necesarios.",
    [CA_T_PASSWORD_TOO_LONG] =
        "La contraseña es más larga de lo que acepta esta área de cliente.",
    [CA_T_UNAVAILABLE_TITLE] = "Servicio no disponible",
    [CA_T_UNAVAILABLE] =
        "El área de cliente no está disponible en este momento. Vuelva a "
        "intentarlo dentro de un momento.",
    [CA_T_BUSY] =
        "Hay demasiadas conexiones en curso. Vuelva a intentarlo dentro de "
        "un momento.",
    [CA_T_FORBIDDEN_TITLE] = "Acceso denegado",
    [CA_T_FORBIDDEN] =
        "Su usuario no tiene el permiso que requiere esta página. Pídalo "
        "al titular de la cuenta.",
    [CA_T_CROSS_SITE] = "Este formulario sólo puede enviarse desde este sitio.",
    [CA_T_NOT_ALLOWED] = "Este método no está permitido aquí.",
    [CA_T_SECONDS] = "{n} segundos",
    [CA_T_SECOND] = "{n} segundo",
    [CA_T_MINUTES] = "{n} minutos",
    [CA_T_MINUTE] = "{n} minuto",
    [CA_T_HOURS] = "{n} horas",
    [CA_T_HOUR] = "{n} hora",
    [CA_T_DAYS] = "{n} días",
    [CA_T_DAY] = "{n} día",
    [CA_T_SECURE_NOTE] = "Conexión segura",
    /* self-service area (issue 10) */
    [CA_T_ACCOUNT_TITLE] = "Mi cuenta",
    [CA_T_ACCOUNT_PROFILE] = "Mis datos",
    [CA_T_ACCOUNT_EMAIL] = "Correo electrónico",
    [CA_T_ACCOUNT_PASSWORD] = "Cambiar la contraseña",
    [CA_T_CURRENT_PASSWORD] = "Contraseña actual",
    [CA_T_ACCOUNT_PASSWORD_BUTTON] = "Guardar la nueva contraseña",
    [CA_T_ACCOUNT_PASSWORD_DONE] =
        "Su contraseña se ha cambiado. Se han cerrado sus demás sesiones.",
    [CA_T_WRONG_PASSWORD] = "La contraseña actual no es correcta.",
    [CA_T_MISSING_CHANGE] =
        "La contraseña actual y la nueva contraseña son necesarias.",
    [CA_T_ACCOUNT_LOGOUT] = "Cerrar sesión",
    [CA_T_CSRF] =
        "Este formulario ha caducado. Vuelva a cargar la página e "
        "inténtelo de nuevo.",
    [CA_T_NOT_FOUND] = "Esta página no existe.",
    [CA_T_SESSIONS_TITLE] = "Sesiones abiertas",
    [CA_T_SESSIONS_INTRO] =
        "Dispositivos conectados a su área de cliente. Si no reconoce "
        "alguno, ciérrelo y cambie su contraseña.",
    [CA_T_SESSION_CURRENT] = "Este dispositivo",
    [CA_T_SESSION_CREATED] = "Conectado el",
    [CA_T_SESSION_SEEN] = "Última actividad",
    [CA_T_SESSION_REVOKE] = "Cerrar",
    [CA_T_SESSION_REVOKE_ALL] = "Cerrar todas las demás sesiones",
    [CA_T_SESSION_REVOKED] = "La sesión se ha cerrado.",
    [CA_T_SESSIONS_REVOKED] =
        "Se han cerrado todas sus sesiones salvo esta.",
    [CA_T_SESSION_UNKNOWN] = "Esta sesión ya no existe.",
    /* self-service: forgotten identifier */
    [CA_T_FORGOT_IDENTIFIER] = "¿Ha olvidado su número de cliente o usuario?",
    [CA_T_REMIND_TITLE] = "¿Ha olvidado su número de cliente o usuario?",
    [CA_T_REMIND_INTRO] =
        "Introduzca uno de los datos de su cuenta: enviaremos a su "
        "dirección de correo electrónico principal los identificadores con "
        "los que puede acceder a su área de cliente.",
    [CA_T_REMIND_SENT] =
        "Si el dato corresponde a una cuenta, su dirección de correo "
        "electrónico principal recibirá un mensaje con sus identificadores "
        "de acceso. A veces este correo llega a la carpeta de spam: "
        "compruébela también.",
    /* self-service: e-mail change */
    [CA_T_EMAIL_CHANGE_TITLE] = "Cambiar mi dirección de correo electrónico",
    [CA_T_EMAIL_CHANGE_INTRO] =
        "Enviaremos un código a su dirección actual y un enlace a la nueva. "
        "El cambio se hace cuando haya introducido el código aquí y abierto "
        "el enlace.",
    [CA_T_EMAIL_NEW] = "Nueva dirección de correo electrónico",
    [CA_T_EMAIL_CHANGE_BUTTON] = "Enviar el código",
    [CA_T_EMAIL_CODE] = "Código enviado a su dirección actual (8 cifras)",
    [CA_T_EMAIL_CODE_BUTTON] = "Confirmar",
    [CA_T_EMAIL_CANCEL_BUTTON] = "Anular el cambio",
    [CA_T_EMAIL_LINK_SENT] =
        "Hemos enviado un enlace a la nueva dirección: ábralo para "
        "confirmar que es suya.",
    [CA_T_EMAIL_VERIFIED_NOTE] = "La nueva dirección está verificada.",
    [CA_T_EMAIL_GRACE] =
        "Si ya no recibe correo en su dirección actual, el cambio se hace "
        "{n} después de pedirlo, una vez verificada la nueva dirección, "
        "salvo que alguien lo anule desde la dirección actual.",
    [CA_T_EMAIL_REQUESTED] =
        "Hemos enviado un código de 8 cifras a su dirección actual y un "
        "enlace a la nueva.",
    [CA_T_EMAIL_CONFIRMED] =
        "Código confirmado. Ahora abra el enlace que hemos enviado a la "
        "nueva dirección.",
    [CA_T_EMAIL_VERIFIED] =
        "Nueva dirección verificada. Ahora introduzca el código que hemos "
        "enviado a su dirección actual.",
    [CA_T_EMAIL_CHANGED] =
        "Su dirección de correo electrónico ha sido cambiada.",
    [CA_T_EMAIL_CANCELLED] =
        "El cambio de dirección de correo electrónico ha sido anulado.",
    [CA_T_EMAIL_CANCEL_TITLE] =
        "Anular el cambio de dirección de correo electrónico",
    [CA_T_EMAIL_CANCEL_INTRO] =
        "Alguien ha pedido sustituir la dirección de correo electrónico de "
        "su área de cliente. Si no ha sido usted, anule el cambio y después "
        "cambie su contraseña.",
    [CA_T_EMAIL_CANCELLED_LINK] =
        "El cambio ha sido anulado: su dirección de correo electrónico no "
        "cambia. Si no lo pidió usted, cambie su contraseña ahora.",
    [CA_T_INVALID_EMAIL] =
        "Esta dirección de correo electrónico no es válida.",
    [CA_T_SAME_EMAIL] = "Esta ya es su dirección de correo electrónico.",
    [CA_T_EMAIL_UNAVAILABLE] =
        "Esta dirección no puede usarse para su área de cliente. Elija "
        "otra.",
    [CA_T_MISSING_EMAIL] =
        "La nueva dirección y su contraseña actual son necesarias.",
    [CA_T_MISSING_CODE] = "Introduzca el código de 8 cifras.",
    [CA_T_WRONG_CODE] = "El código no es correcto. Intentos restantes: {n}.",
    [CA_T_CODE_DEAD] =
        "Demasiados códigos incorrectos: el cambio ha sido anulado. Vuelva a "
        "pedirlo.",
    [CA_T_NO_EMAIL_CHANGE] =
        "No hay ningún cambio de dirección de correo electrónico en curso, "
        "o ha expirado.",
    /* sub-users: invitations */
    [CA_T_INVITE_TITLE] = "Active su acceso al área de cliente",
    [CA_T_INVITE_INTRO] =
        "Le han invitado como usuario de la cuenta con la dirección {n}. "
        "Elija su contraseña para activar el acceso.",
    [CA_T_INVITE_GONE] =
        "Esta invitación es desconocida, ya se ha utilizado, ha sido "
        "anulada o ha caducado. Pida al titular de la cuenta que le envíe "
        "una nueva.",
    [CA_T_INVITE_TAKEN] =
        "Esta dirección de correo ya tiene un acceso registrado. Conéctese "
        "con él o pida al titular que invite otra dirección.",
    [CA_T_INVITE_DONE] =
        "Su acceso está activado. Conéctese con su correo y su contraseña.",
    [CA_T_USERS_TITLE] = "Usuarios",
    [CA_T_USERS_INTRO] =
        "Las personas que pueden conectarse a esta cuenta y lo que "
        "cada una puede hacer.",
    [CA_T_USERS_EMAIL] = "Correo electrónico",
    [CA_T_USERS_PERMS] = "Permisos",
    [CA_T_USERS_STATUS] = "Estado",
    [CA_T_USERS_LAST_LOGIN] = "Última conexión",
    [CA_T_USERS_NEVER] = "Nunca",
    [CA_T_USERS_OWNER] = "Titular de la cuenta",
    [CA_T_USERS_ALL] = "Todos los permisos",
    [CA_T_USERS_ACTIVE] = "Activo",
    [CA_T_USERS_LOCKED] = "Bloqueado",
    [CA_T_USERS_REMOVE] = "Eliminar",
    [CA_T_USERS_SAVE] = "Guardar los permisos",
    [CA_T_USERS_INVITE_TITLE] = "Invitar a un usuario",
    [CA_T_USERS_INVITE_BUTTON] = "Enviar la invitación",
    [CA_T_USERS_PENDING] = "Invitaciones pendientes",
    [CA_T_USERS_EXPIRES] = "Caduca",
    [CA_T_USERS_RESEND] = "Reenviar",
    [CA_T_USERS_CANCEL] = "Anular",
    [CA_T_USERS_INVITED] =
        "Se ha enviado la invitación. Su enlace sirve una sola vez.",
    [CA_T_USERS_INVITE_CANCELLED] =
        "Se ha anulado la invitación: su enlace ya no funciona.",
    [CA_T_USERS_PERMS_CHANGED] =
        "Se han cambiado los permisos. Se aplican ya, también a las "
        "sesiones abiertas del usuario.",
    [CA_T_USERS_REMOVED] =
        "Se ha eliminado el usuario y se han cerrado sus sesiones.",
    [CA_T_USERS_FORBIDDEN] =
        "Solo el titular de la cuenta, o un usuario con el permiso "
        "Usuarios, puede gestionar los usuarios de la cuenta.",
    [CA_T_USERS_NOT_HELD] = "No puede dar un permiso que usted no tiene.",
    [CA_T_USERS_IS_OWNER] =
        "El titular de la cuenta no se puede eliminar y conserva "
        "todos los permisos.",
    [CA_T_USERS_TAKEN] =
        "Esta dirección de correo ya está registrada. Invite otra "
        "dirección.",
    [CA_T_USERS_BAD_EMAIL] = "Introduzca una dirección de correo válida.",
    [CA_T_USERS_UNKNOWN] = "Este usuario no pertenece a su cuenta.",
    [CA_T_USERS_NO_INVITE] =
        "No hay ninguna invitación pendiente para esta dirección.",
    [CA_T_USERS_MISSING_PERM] = "Elija al menos un permiso, o todos.",
    [CA_T_USERS_BACK] = "Volver a los usuarios",
    [CA_T_USERS_LINK] = "Gestionar los usuarios de la cuenta",
    [CA_T_PERM_BILLING] = "Facturación",
    [CA_T_PERM_ORDERS] = "Pedidos",
    [CA_T_PERM_TECHNICAL] = "Técnico",
    [CA_T_PERM_DOMAINS] = "Dominios",
    [CA_T_PERM_CONTACTS] = "Contactos",
    [CA_T_PERM_USERS] = "Usuarios",
    /* sub-users: invitations' rate limit */
    [CA_T_USERS_TOO_MANY] =
        "Se han enviado muchas invitaciones en poco tiempo. Vuelva a "
        "intentarlo más tarde."
};


static const char  *ca_text_fr[CA_T_COUNT] = {
    [CA_T_BRAND] = "",
    [CA_T_SUPPORT_CONTACT] = "",
    [CA_T_AREA] = "Espace client",
    [CA_T_LANGUAGE] = "Langue",
    [CA_T_LOGIN_TITLE] = "Connexion à votre espace client",
    [CA_T_LOGIN_INTRO] = "Saisissez votre identifiant et votre mot de passe.",
    [CA_T_LOGIN_BUTTON] = "Connexion",
    [CA_T_PASSWORD] = "Mot de passe",
    [CA_T_FORGOT] = "Mot de passe oublié ?",
    [CA_T_SHOW_PASSWORD] = "Afficher le mot de passe",
    [CA_T_ID_EMAIL] = "adresse e-mail",
    [CA_T_ID_CUSTOMER_NUMBER] = "numéro client",
    [CA_T_ID_NIC] = "identifiant client (NIC handle)",
    [CA_T_ID_PHONE] = "numéro de téléphone",
    [CA_T_ID_DOMAIN] = "nom de domaine",
    [CA_T_ID_OR] = "ou",
    [CA_T_INVALID_CREDENTIALS] = "Identifiant ou mot de passe incorrect.",
    [CA_T_LOGGED_OUT] = "Vous êtes déconnecté.",
    [CA_T_PASSWORD_CHANGED] =
        "Votre mot de passe a été modifié. Connectez-vous avec le nouveau "
        "mot de passe.",
    [CA_T_NEED_LOGIN] = "Vous devez vous connecter pour voir cette page.",
    [CA_T_TOO_MANY_TITLE] = "Trop de tentatives",
    [CA_T_TOO_MANY] =
        "Trop de tentatives de connexion. Patientez {n} avant de réessayer, "
        "ou réinitialisez votre mot de passe.",
    [CA_T_LOCKED_TITLE] = "Compte bloqué",
    [CA_T_LOCKED] =
        "Cet utilisateur est bloqué. Contactez le support pour le "
        "débloquer.",
    [CA_T_SUPPORT] = "Support : {n}",
    [CA_T_RESET_TITLE] = "Mot de passe oublié ?",
    [CA_T_RESET_INTRO] =
        "Il n'est pas possible de récupérer votre mot de passe, mais vous "
        "pouvez en définir un nouveau. Saisissez votre identifiant : nous "
        "vous enverrons un lien.",
    [CA_T_RESET_BUTTON] = "Envoyer",
    [CA_T_RESET_LINK] = "Demander un nouveau lien",
    [CA_T_BACK_TO_LOGIN] = "Retour à l'écran de connexion",
    [CA_T_SENT_TITLE] = "Votre demande a été envoyée",
    [CA_T_SENT] =
        "Si l'identifiant correspond à un compte, votre adresse e-mail va "
        "recevoir un lien pour définir un nouveau mot de passe. Le lien ne "
        "sert qu'une fois et expire au bout de quelques heures.",
    [CA_T_SENT_SPAM] =
        "Il arrive que ce message soit classé en spam : vérifiez aussi ce "
        "dossier.",
    [CA_T_NEW_TITLE] = "Définir un nouveau mot de passe",
    [CA_T_NEW_PASSWORD] = "Nouveau mot de passe",
    [CA_T_NEW_CONFIRM] = "Répétez le nouveau mot de passe",
    [CA_T_NEW_BUTTON] = "Définir",
    [CA_T_RULES_TITLE] = "Votre mot de passe doit contenir :",
    [CA_T_RULES_BROKEN] = "Le mot de passe ne respecte pas ces règles :",
    [CA_T_GENERATE] = "Générer un mot de passe",
    [CA_T_GENERATED] =
        "Mot de passe généré et affiché : conservez-le en lieu sûr.",
    [CA_T_RULE_TOO_SHORT] = "Au moins {n} caractères",
    [CA_T_RULE_TOO_LONG] = "Au plus {n} octets",
    [CA_T_RULE_NO_UPPER] = "Une lettre majuscule",
    [CA_T_RULE_NO_LOWER] = "Une lettre minuscule",
    [CA_T_RULE_NO_DIGIT] = "Un chiffre",
    [CA_T_RULE_NO_SPECIAL] = "Un caractère spécial",
    [CA_T_RULE_WHITESPACE] = "Aucun espace",
    [CA_T_RULE_IDENTIFIER] = "Pas votre identifiant",
    [CA_T_RULE_COMMON] = "Pas un mot de passe trop courant",
    [CA_T_RULE_REUSED] = "Pas un de vos {n} derniers mots de passe",
    [CA_T_RULE_MISMATCH] = "Les deux mots de passe sont identiques",
    [CA_T_RULE_INVALID] = "Uniquement des caractères imprimables",
    [CA_T_GONE_TITLE] = "Ce lien n'est plus valable",
    [CA_T_GONE] = "Ce lien est inconnu, a déjà servi ou a expiré.",
    [CA_T_BAD_TITLE] = "Requête incorrecte",
    [CA_T_BAD_REQUEST] = "La requête n'a pas pu être comprise.",
    [CA_T_MISSING_LOGIN] =
        "Saisissez votre identifiant et votre mot de passe.",
    [CA_T_MISSING_IDENTIFIER] = "Saisissez votre identifiant.",
    [CA_T_MISSING_NEW] = "Le lien et le nouveau mot de passe sont requis.",
    [CA_T_PASSWORD_TOO_LONG] =
        "Le mot de passe est plus long que ce qu'accepte cet espace client.",
    [CA_T_UNAVAILABLE_TITLE] = "Service indisponible",
    [CA_T_UNAVAILABLE] =
        "L'espace client est momentanément indisponible. Réessayez dans "
        "un instant.",
    [CA_T_BUSY] =
        "Trop de connexions sont en cours. Réessayez dans un instant.",
    [CA_T_FORBIDDEN_TITLE] = "Accès refusé",
    [CA_T_FORBIDDEN] =
        "Votre utilisateur n'a pas la permission que demande cette page. "
        "Demandez-la au titulaire du compte.",
    [CA_T_CROSS_SITE] =
        "Ce formulaire ne peut être envoyé que depuis ce site.",
    [CA_T_NOT_ALLOWED] = "Cette méthode n'est pas permise ici.",
    [CA_T_SECONDS] = "{n} secondes",
    [CA_T_SECOND] = "{n} seconde",
    [CA_T_MINUTES] = "{n} minutes",
    [CA_T_MINUTE] = "{n} minute",
    [CA_T_HOURS] = "{n} heures",
    [CA_T_HOUR] = "{n} heure",
    [CA_T_DAYS] = "{n} jours",
    [CA_T_DAY] = "{n} jour",
    [CA_T_SECURE_NOTE] = "Connexion sécurisée",
    /* self-service area (issue 10) */
    [CA_T_ACCOUNT_TITLE] = "Mon compte",
    [CA_T_ACCOUNT_PROFILE] = "Mes informations",
    [CA_T_ACCOUNT_EMAIL] = "Adresse e-mail",
    [CA_T_ACCOUNT_PASSWORD] = "Modifier mon mot de passe",
    [CA_T_CURRENT_PASSWORD] = "Mot de passe actuel",
    [CA_T_ACCOUNT_PASSWORD_BUTTON] = "Enregistrer le nouveau mot de passe",
    [CA_T_ACCOUNT_PASSWORD_DONE] =
        "Votre mot de passe a été modifié. Vos autres sessions ont été "
        "fermées.",
    [CA_T_WRONG_PASSWORD] = "Le mot de passe actuel est incorrect.",
    [CA_T_MISSING_CHANGE] =
        "Le mot de passe actuel et le nouveau mot de passe sont requis.",
    [CA_T_ACCOUNT_LOGOUT] = "Se déconnecter",
    [CA_T_CSRF] =
        "Ce formulaire a expiré. Rechargez la page et réessayez.",
    [CA_T_NOT_FOUND] = "Cette page n'existe pas.",
    [CA_T_SESSIONS_TITLE] = "Sessions ouvertes",
    [CA_T_SESSIONS_INTRO] =
        "Les appareils connectés à votre espace client. Si vous n'en "
        "reconnaissez pas un, fermez-le et changez votre mot de passe.",
    [CA_T_SESSION_CURRENT] = "Cet appareil",
    [CA_T_SESSION_CREATED] = "Connecté le",
    [CA_T_SESSION_SEEN] = "Dernière activité",
    [CA_T_SESSION_REVOKE] = "Déconnecter",
    [CA_T_SESSION_REVOKE_ALL] = "Déconnecter toutes les autres sessions",
    [CA_T_SESSION_REVOKED] = "La session a été fermée.",
    [CA_T_SESSIONS_REVOKED] =
        "Toutes vos sessions ont été fermées, sauf celle-ci.",
    [CA_T_SESSION_UNKNOWN] = "Cette session n'existe plus.",
    /* self-service: forgotten identifier */
    [CA_T_FORGOT_IDENTIFIER] = "Numéro client ou identifiant oublié ?",
    [CA_T_REMIND_TITLE] = "Numéro client ou identifiant oublié ?",
    [CA_T_REMIND_INTRO] =
        "Saisissez l'une des informations de votre compte : nous enverrons "
        "à votre adresse e-mail principale les identifiants avec lesquels "
        "vous pouvez vous connecter à votre espace client.",
    [CA_T_REMIND_SENT] =
        "Si cette information correspond à un compte, son adresse e-mail "
        "principale va recevoir un message avec ses identifiants de "
        "connexion. Pensez à vérifier aussi le dossier des courriers "
        "indésirables.",
    /* self-service: e-mail change */
    [CA_T_EMAIL_CHANGE_TITLE] = "Modifier mon adresse e-mail",
    [CA_T_EMAIL_CHANGE_INTRO] =
        "Nous enverrons un code à votre adresse actuelle et un lien à la "
        "nouvelle. La modification est faite une fois le code saisi ici et le "
        "lien ouvert.",
    [CA_T_EMAIL_NEW] = "Nouvelle adresse e-mail",
    [CA_T_EMAIL_CHANGE_BUTTON] = "Envoyer le code",
    [CA_T_EMAIL_CODE] = "Code envoyé à votre adresse actuelle (8 chiffres)",
    [CA_T_EMAIL_CODE_BUTTON] = "Valider",
    [CA_T_EMAIL_CANCEL_BUTTON] = "Annuler la modification",
    [CA_T_EMAIL_LINK_SENT] =
        "Nous avons envoyé un lien à la nouvelle adresse : ouvrez-le pour "
        "confirmer qu'elle est bien la vôtre.",
    [CA_T_EMAIL_VERIFIED_NOTE] = "La nouvelle adresse est vérifiée.",
    [CA_T_EMAIL_GRACE] =
        "Si vous ne recevez plus de courrier à votre adresse actuelle, la "
        "modification est faite {n} après la demande, une fois la nouvelle "
        "adresse vérifiée, sauf si elle est annulée depuis l'adresse "
        "actuelle.",
    [CA_T_EMAIL_REQUESTED] =
        "Nous avons envoyé un code à 8 chiffres à votre adresse actuelle "
        "et un lien à la nouvelle.",
    [CA_T_EMAIL_CONFIRMED] =
        "Code validé. Ouvrez maintenant le lien envoyé à la nouvelle "
        "adresse.",
    [CA_T_EMAIL_VERIFIED] =
        "Nouvelle adresse vérifiée. Saisissez maintenant le code envoyé à "
        "votre adresse actuelle.",
    [CA_T_EMAIL_CHANGED] = "Votre adresse e-mail a été modifiée.",
    [CA_T_EMAIL_CANCELLED] =
        "La modification de l'adresse e-mail a été annulée.",
    [CA_T_EMAIL_CANCEL_TITLE] = "Annuler la modification de l'adresse e-mail",
    [CA_T_EMAIL_CANCEL_INTRO] =
        "Quelqu'un a demandé à remplacer l'adresse e-mail de votre espace "
        "client. Si ce n'est pas vous, annulez la modification, puis changez "
        "votre mot de passe.",
    [CA_T_EMAIL_CANCELLED_LINK] =
        "La modification a été annulée : votre adresse e-mail ne change "
        "pas. Si vous ne l'avez pas demandée, changez votre mot de passe "
        "maintenant.",
    [CA_T_INVALID_EMAIL] = "Cette adresse e-mail n'est pas valide.",
    [CA_T_SAME_EMAIL] = "C'est déjà votre adresse e-mail.",
    [CA_T_EMAIL_UNAVAILABLE] =
        "Cette adresse ne peut pas être utilisée pour votre espace client. "
        "Choisissez-en une autre.",
    [CA_T_MISSING_EMAIL] =
        "La nouvelle adresse et votre mot de passe actuel sont requis.",
    [CA_T_MISSING_CODE] = "Saisissez le code à 8 chiffres.",
    [CA_T_WRONG_CODE] = "Le code est incorrect. Essais restants : {n}.",
    [CA_T_CODE_DEAD] =
        "Trop de codes incorrects : la modification a été annulée. "
        "Demandez-la à nouveau.",
    [CA_T_NO_EMAIL_CHANGE] =
        "Aucune modification d'adresse e-mail n'est en cours, ou elle a "
        "expiré.",
    /* sub-users: invitations */
    [CA_T_INVITE_TITLE] = "Activez votre accès à l'espace client",
    [CA_T_INVITE_INTRO] =
        "Vous avez été invité comme utilisateur du compte avec l'adresse "
        "{n}. Choisissez votre mot de passe pour activer l'accès.",
    [CA_T_INVITE_GONE] =
        "Cette invitation est inconnue, a déjà servi, a été annulée ou a "
        "expiré. Demandez au titulaire du compte de vous en envoyer une "
        "nouvelle.",
    [CA_T_INVITE_TAKEN] =
        "Cette adresse e-mail a déjà un accès. Connectez-vous avec celui-ci "
        "ou demandez au titulaire d'inviter une autre adresse.",
    [CA_T_INVITE_DONE] =
        "Votre accès est activé. Connectez-vous avec votre e-mail et votre "
        "mot de passe.",
    [CA_T_USERS_TITLE] = "Utilisateurs",
    [CA_T_USERS_INTRO] =
        "Les personnes qui peuvent se connecter à ce compte, et ce "
        "que chacune peut faire.",
    [CA_T_USERS_EMAIL] = "E-mail",
    [CA_T_USERS_PERMS] = "Permissions",
    [CA_T_USERS_STATUS] = "État",
    [CA_T_USERS_LAST_LOGIN] = "Dernière connexion",
    [CA_T_USERS_NEVER] = "Jamais",
    [CA_T_USERS_OWNER] = "Titulaire du compte",
    [CA_T_USERS_ALL] = "Toutes les permissions",
    [CA_T_USERS_ACTIVE] = "Actif",
    [CA_T_USERS_LOCKED] = "Bloqué",
    [CA_T_USERS_REMOVE] = "Supprimer",
    [CA_T_USERS_SAVE] = "Enregistrer les permissions",
    [CA_T_USERS_INVITE_TITLE] = "Inviter un utilisateur",
    [CA_T_USERS_INVITE_BUTTON] = "Envoyer l'invitation",
    [CA_T_USERS_PENDING] = "Invitations en attente",
    [CA_T_USERS_EXPIRES] = "Expire le",
    [CA_T_USERS_RESEND] = "Renvoyer",
    [CA_T_USERS_CANCEL] = "Annuler",
    [CA_T_USERS_INVITED] =
        "L'invitation a été envoyée. Son lien ne sert qu'une fois.",
    [CA_T_USERS_INVITE_CANCELLED] =
        "L'invitation a été annulée : son lien ne fonctionne plus.",
    [CA_T_USERS_PERMS_CHANGED] =
        "Les permissions ont été modifiées. Elles s'appliquent tout "
        "de suite, y compris aux sessions ouvertes de l'utilisateur.",
    [CA_T_USERS_REMOVED] =
        "L'utilisateur a été supprimé et ses sessions fermées.",
    [CA_T_USERS_FORBIDDEN] =
        "Seul le titulaire du compte, ou un utilisateur ayant la "
        "permission Utilisateurs, peut gérer les utilisateurs du "
        "compte.",
    [CA_T_USERS_NOT_HELD] =
        "Vous ne pouvez pas donner une permission que vous n'avez "
        "pas.",
    [CA_T_USERS_IS_OWNER] =
        "Le titulaire du compte ne peut pas être supprimé et garde "
        "toutes les permissions.",
    [CA_T_USERS_TAKEN] =
        "Cette adresse e-mail est déjà enregistrée. Invitez une autre"
        " adresse.",
    [CA_T_USERS_BAD_EMAIL] = "Saisissez une adresse e-mail valide.",
    [CA_T_USERS_UNKNOWN] = "Cet utilisateur n'appartient pas à votre compte.",
    [CA_T_USERS_NO_INVITE] =
        "Aucune invitation n'est en attente pour cette adresse.",
    [CA_T_USERS_MISSING_PERM] =
        "Choisissez au moins une permission, ou toutes.",
    [CA_T_USERS_BACK] = "Retour aux utilisateurs",
    [CA_T_USERS_LINK] = "Gérer les utilisateurs du compte",
    [CA_T_PERM_BILLING] = "Facturation",
    [CA_T_PERM_ORDERS] = "Commandes",
    [CA_T_PERM_TECHNICAL] = "Technique",
    [CA_T_PERM_DOMAINS] = "Domaines",
    [CA_T_PERM_CONTACTS] = "Contacts",
    [CA_T_PERM_USERS] = "Utilisateurs",
    /* sub-users: invitations' rate limit */
    [CA_T_USERS_TOO_MANY] =
        "Trop d'invitations ont été envoyées en peu de temps. Réessayez "
        "plus tard."
};


static const char  *ca_text_en[CA_T_COUNT] = {
    [CA_T_BRAND] = "",
    [CA_T_SUPPORT_CONTACT] = "",
    [CA_T_AREA] = "Customer area",
    [CA_T_LANGUAGE] = "Language",
    [CA_T_LOGIN_TITLE] = "Log in to your customer area",
    [CA_T_LOGIN_INTRO] = "Enter your identifier and your password.",
    [CA_T_LOGIN_BUTTON] = "Log in",
    [CA_T_PASSWORD] = "Password",
    [CA_T_FORGOT] = "Forgot your password?",
    [CA_T_SHOW_PASSWORD] = "Show password",
    [CA_T_ID_EMAIL] = "e-mail",
    [CA_T_ID_CUSTOMER_NUMBER] = "customer number",
    [CA_T_ID_NIC] = "NIC handle",
    [CA_T_ID_PHONE] = "phone number",
    [CA_T_ID_DOMAIN] = "domain",
    [CA_T_ID_OR] = "or",
    [CA_T_INVALID_CREDENTIALS] = "Incorrect identifier or password.",
    [CA_T_LOGGED_OUT] = "You are logged out.",
    [CA_T_PASSWORD_CHANGED] =
        "Your password has been changed. Log in with your new password.",
    [CA_T_NEED_LOGIN] = "You need to log in to see this page.",
    [CA_T_TOO_MANY_TITLE] = "Too many attempts",
    [CA_T_TOO_MANY] =
        "Too many login attempts. Please wait {n} before trying again, or "
        "reset your password.",
    [CA_T_LOCKED_TITLE] = "Account locked",
    [CA_T_LOCKED] =
        "This user is locked. Please contact support to unlock it.",
    [CA_T_SUPPORT] = "Support: {n}",
    [CA_T_RESET_TITLE] = "Forgot your password?",
    [CA_T_RESET_INTRO] =
        "Your password cannot be recovered, but you can choose a new one. "
        "Enter your identifier and we will e-mail you a link.",
    [CA_T_RESET_BUTTON] = "Send",
    [CA_T_RESET_LINK] = "Ask for a new link",
    [CA_T_BACK_TO_LOGIN] = "Back to the login screen",
    [CA_T_SENT_TITLE] = "Your request has been sent",
    [CA_T_SENT] =
        "If an account matches what you entered, we have sent a link to "
        "reset its password to its e-mail address. The link can be used "
        "once and expires in a few hours.",
    [CA_T_SENT_SPAM] =
        "The message sometimes lands in the spam folder: check it too.",
    [CA_T_NEW_TITLE] = "Choose a new password",
    [CA_T_NEW_PASSWORD] = "New password",
    [CA_T_NEW_CONFIRM] = "Repeat the new password",
    [CA_T_NEW_BUTTON] = "Set password",
    [CA_T_RULES_TITLE] = "Your password needs:",
    [CA_T_RULES_BROKEN] = "The password does not meet these rules:",
    [CA_T_GENERATE] = "Generate a password",
    [CA_T_GENERATED] =
        "Password generated and shown: keep it somewhere safe.",
    [CA_T_RULE_TOO_SHORT] = "At least {n} characters",
    [CA_T_RULE_TOO_LONG] = "At most {n} bytes",
    [CA_T_RULE_NO_UPPER] = "An upper-case letter",
    [CA_T_RULE_NO_LOWER] = "A lower-case letter",
    [CA_T_RULE_NO_DIGIT] = "A digit",
    [CA_T_RULE_NO_SPECIAL] = "A special character",
    [CA_T_RULE_WHITESPACE] = "No white space",
    [CA_T_RULE_IDENTIFIER] = "Not your identifier",
    [CA_T_RULE_COMMON] = "Not a common password",
    [CA_T_RULE_REUSED] = "Not one of your last {n} passwords",
    [CA_T_RULE_MISMATCH] = "Both passwords match",
    [CA_T_RULE_INVALID] = "Printable characters only",
    [CA_T_GONE_TITLE] = "Link no longer valid",
    [CA_T_GONE] =
        "This link is unknown, was already used or has expired.",
    [CA_T_BAD_TITLE] = "Bad request",
    [CA_T_BAD_REQUEST] = "The request could not be understood.",
    [CA_T_MISSING_LOGIN] =
        "Both the identifier and the password are required.",
    [CA_T_MISSING_IDENTIFIER] = "Please enter your identifier.",
    [CA_T_MISSING_NEW] = "The token and the new password are required.",
    [CA_T_PASSWORD_TOO_LONG] =
        "The password is longer than this customer area accepts.",
    [CA_T_UNAVAILABLE_TITLE] = "Temporarily unavailable",
    [CA_T_UNAVAILABLE] =
        "The customer area is temporarily unavailable. Please try again in "
        "a moment.",
    [CA_T_BUSY] =
        "Too many logins are in progress. Please try again in a moment.",
    [CA_T_FORBIDDEN_TITLE] = "Access denied",
    [CA_T_FORBIDDEN] =
        "Your user does not have the permission this page requires. Ask "
        "the account owner to grant it.",
    [CA_T_CROSS_SITE] = "This form can only be sent from this site.",
    [CA_T_NOT_ALLOWED] = "This method is not allowed here.",
    [CA_T_SECONDS] = "{n} seconds",
    [CA_T_SECOND] = "{n} second",
    [CA_T_MINUTES] = "{n} minutes",
    [CA_T_MINUTE] = "{n} minute",
    [CA_T_HOURS] = "{n} hours",
    [CA_T_HOUR] = "{n} hour",
    [CA_T_DAYS] = "{n} days",
    [CA_T_DAY] = "{n} day",
    [CA_T_SECURE_NOTE] = "Secure connection",
    /* self-service area (issue 10) */
    [CA_T_ACCOUNT_TITLE] = "My account",
    [CA_T_ACCOUNT_PROFILE] = "My details",
    [CA_T_ACCOUNT_EMAIL] = "E-mail address",
    [CA_T_ACCOUNT_PASSWORD] = "Change my password",
    [CA_T_CURRENT_PASSWORD] = "Current password",
    [CA_T_ACCOUNT_PASSWORD_BUTTON] = "Save the new password",
    [CA_T_ACCOUNT_PASSWORD_DONE] =
        "Your password has been changed. Your other sessions have been "
        "closed.",
    [CA_T_WRONG_PASSWORD] = "The current password is not correct.",
    [CA_T_MISSING_CHANGE] =
        "The current password and the new password are required.",
    [CA_T_ACCOUNT_LOGOUT] = "Log out",
    [CA_T_CSRF] =
        "This form has expired. Reload the page and try again.",
    [CA_T_NOT_FOUND] = "This page does not exist.",
    [CA_T_SESSIONS_TITLE] = "Open sessions",
    [CA_T_SESSIONS_INTRO] =
        "The devices logged in to your customer area. If you do not "
        "recognise one, sign it out and change your password.",
    [CA_T_SESSION_CURRENT] = "This device",
    [CA_T_SESSION_CREATED] = "Logged in",
    [CA_T_SESSION_SEEN] = "Last active",
    [CA_T_SESSION_REVOKE] = "Sign out",
    [CA_T_SESSION_REVOKE_ALL] = "Sign out all other sessions",
    [CA_T_SESSION_REVOKED] = "The session has been closed.",
    [CA_T_SESSIONS_REVOKED] =
        "All your sessions but this one have been closed.",
    [CA_T_SESSION_UNKNOWN] = "This session no longer exists.",
    /* self-service: forgotten identifier */
    [CA_T_FORGOT_IDENTIFIER] = "Forgot your customer number or user name?",
    [CA_T_REMIND_TITLE] = "Forgot your customer number or user name?",
    [CA_T_REMIND_INTRO] =
        "Enter any one of your account's details: we will e-mail the "
        "identifiers you can log in with to the account's primary e-mail "
        "address.",
    [CA_T_REMIND_SENT] =
        "If what you entered matches an account, its primary e-mail "
        "address will receive a message listing its login identifiers. "
        "It sometimes lands in the spam folder: check there too.",
    /* self-service: e-mail change */
    [CA_T_EMAIL_CHANGE_TITLE] = "Change my e-mail address",
    [CA_T_EMAIL_CHANGE_INTRO] =
        "We will send a code to your current address and a link to the new "
        "one. The change is made once you have entered the code here and "
        "opened the link.",
    [CA_T_EMAIL_NEW] = "New e-mail address",
    [CA_T_EMAIL_CHANGE_BUTTON] = "Send the code",
    [CA_T_EMAIL_CODE] = "Code sent to your current address (8 digits)",
    [CA_T_EMAIL_CODE_BUTTON] = "Confirm",
    [CA_T_EMAIL_CANCEL_BUTTON] = "Cancel the change",
    [CA_T_EMAIL_LINK_SENT] =
        "We have sent a link to the new address: open it to confirm that it "
        "is yours.",
    [CA_T_EMAIL_VERIFIED_NOTE] = "The new address is verified.",
    [CA_T_EMAIL_GRACE] =
        "If you no longer receive mail at your current address, the change is "
        "made {n} after you asked for it, once the new address is verified, "
        "unless someone cancels it from the current address.",
    [CA_T_EMAIL_REQUESTED] =
        "We have sent an 8-digit code to your current address and a link to "
        "the new one.",
    [CA_T_EMAIL_CONFIRMED] =
        "Code confirmed. Now open the link we sent to the new address.",
    [CA_T_EMAIL_VERIFIED] =
        "New address verified. Now enter the code we sent to your current "
        "address.",
    [CA_T_EMAIL_CHANGED] = "Your e-mail address has been changed.",
    [CA_T_EMAIL_CANCELLED] = "The e-mail address change has been cancelled.",
    [CA_T_EMAIL_CANCEL_TITLE] = "Cancel the e-mail address change",
    [CA_T_EMAIL_CANCEL_INTRO] =
        "Someone asked to replace the e-mail address of your customer area. "
        "If it was not you, cancel the change, then change your password.",
    [CA_T_EMAIL_CANCELLED_LINK] =
        "The change has been cancelled: your e-mail address stays as it was. "
        "If you did not ask for it, change your password now.",
    [CA_T_INVALID_EMAIL] = "This is not a valid e-mail address.",
    [CA_T_SAME_EMAIL] = "This is already your e-mail address.",
    [CA_T_EMAIL_UNAVAILABLE] =
        "This address cannot be used for your customer area. Choose another "
        "one.",
    [CA_T_MISSING_EMAIL] =
        "The new address and your current password are required.",
    [CA_T_MISSING_CODE] = "Enter the 8-digit code.",
    [CA_T_WRONG_CODE] = "The code is not correct. Tries left: {n}.",
    [CA_T_CODE_DEAD] =
        "Too many wrong codes: the change has been cancelled. Ask for it "
        "again.",
    [CA_T_NO_EMAIL_CHANGE] =
        "No e-mail address change is under way, or it has expired.",
    /* sub-users: invitations */
    [CA_T_INVITE_TITLE] = "Activate your customer area access",
    [CA_T_INVITE_INTRO] =
        "You were invited as a user of the account with the address {n}. "
        "Choose your password to activate your access.",
    [CA_T_INVITE_GONE] =
        "This invitation is unknown, was already used, was cancelled or has "
        "expired. Ask the account holder to send you a new one.",
    [CA_T_INVITE_TAKEN] =
        "This e-mail address already has an access. Log in with it, or ask "
        "the account holder to invite another address.",
    [CA_T_INVITE_DONE] =
        "Your access is active. Log in with your e-mail and your password.",
    [CA_T_USERS_TITLE] = "Users",
    [CA_T_USERS_INTRO] =
        "The people who can log in to this account, and what each of "
        "them may do.",
    [CA_T_USERS_EMAIL] = "E-mail",
    [CA_T_USERS_PERMS] = "Permissions",
    [CA_T_USERS_STATUS] = "Status",
    [CA_T_USERS_LAST_LOGIN] = "Last login",
    [CA_T_USERS_NEVER] = "Never",
    [CA_T_USERS_OWNER] = "Account holder",
    [CA_T_USERS_ALL] = "All permissions",
    [CA_T_USERS_ACTIVE] = "Active",
    [CA_T_USERS_LOCKED] = "Locked",
    [CA_T_USERS_REMOVE] = "Remove",
    [CA_T_USERS_SAVE] = "Save permissions",
    [CA_T_USERS_INVITE_TITLE] = "Invite a user",
    [CA_T_USERS_INVITE_BUTTON] = "Send the invitation",
    [CA_T_USERS_PENDING] = "Pending invitations",
    [CA_T_USERS_EXPIRES] = "Expires",
    [CA_T_USERS_RESEND] = "Send again",
    [CA_T_USERS_CANCEL] = "Cancel",
    [CA_T_USERS_INVITED] =
        "The invitation has been sent. Its link can be used once.",
    [CA_T_USERS_INVITE_CANCELLED] =
        "The invitation has been cancelled: its link no longer works.",
    [CA_T_USERS_PERMS_CHANGED] =
        "The permissions have been changed. They apply at once, also "
        "to the user's open sessions.",
    [CA_T_USERS_REMOVED] =
        "The user has been removed and their sessions closed.",
    [CA_T_USERS_FORBIDDEN] =
        "Only the account holder, or a user with the Users "
        "permission, can manage the users of the account.",
    [CA_T_USERS_NOT_HELD] =
        "You cannot give a permission that you do not have yourself.",
    [CA_T_USERS_IS_OWNER] =
        "The account holder cannot be removed and keeps all "
        "permissions.",
    [CA_T_USERS_TAKEN] =
        "This e-mail address is already registered. Invite another "
        "address.",
    [CA_T_USERS_BAD_EMAIL] = "Enter a valid e-mail address.",
    [CA_T_USERS_UNKNOWN] = "This user is not a user of your account.",
    [CA_T_USERS_NO_INVITE] = "There is no pending invitation for this address.",
    [CA_T_USERS_MISSING_PERM] =
        "Choose at least one permission, or all of them.",
    [CA_T_USERS_BACK] = "Back to the users",
    [CA_T_USERS_LINK] = "Manage the users of the account",
    [CA_T_PERM_BILLING] = "Billing",
    [CA_T_PERM_ORDERS] = "Orders",
    [CA_T_PERM_TECHNICAL] = "Technical",
    [CA_T_PERM_DOMAINS] = "Domains",
    [CA_T_PERM_CONTACTS] = "Contacts",
    [CA_T_PERM_USERS] = "Users",
    /* sub-users: invitations' rate limit */
    [CA_T_USERS_TOO_MANY] =
        "Too many invitations have been sent in a short time. Please try "
        "again later."
};


static const struct {
    const char   *tag;
    const char  **texts;
} ca_text_langs[] = {
    { "es", ca_text_es },
    { "fr", ca_text_fr },
    { "en", ca_text_en }
};


const char *
ca_text_name(ca_text_e id)
{
    return (id < CA_T_COUNT) ? ca_text_names[id] : NULL;
}


int
ca_text_find(const char *name, size_t len)
{
    int  i;

    for (i = 0; i < CA_T_COUNT; i++) {
        if (strlen(ca_text_names[i]) == len
            && memcmp(ca_text_names[i], name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


int
ca_text_builtin(const char *tag, size_t len)
{
    size_t  i;

    for (i = 0; i < sizeof(ca_text_langs) / sizeof(ca_text_langs[0]); i++) {
        if (len == 2 && strncasecmp(ca_text_langs[i].tag, tag, 2) == 0) {
            return (int) i;
        }
    }

    return -1;
}


void
ca_texts_init(ca_texts_t *texts, int lang)
{
    int  i;

    for (i = 0; i < CA_T_COUNT; i++) {
        texts->t[i] = (lang >= 0) ? ca_text_langs[lang].texts[i] : NULL;
    }
}


static int
ca_text_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}


int
ca_texts_parse(ca_texts_t *texts, char *buf, size_t len, const char *file,
    char *err, size_t errlen)
{
    int      id;
    char    *p, *end, *eol, *key, *kend, *val, *vend;
    size_t   line;

    p = buf;
    end = buf + len;

    for (line = 1; p < end; line++, p = eol + 1) {
        eol = memchr(p, '\n', end - p);
        if (eol == NULL) {
            eol = end;
        }

        if (memchr(p, '\0', eol - p) != NULL) {
            snprintf(err, errlen, "%s:%zu: NUL byte", file, line);
            return -1;
        }

        while (p < eol && ca_text_space(*p)) {
            p++;
        }

        if (p == eol || *p == '#') {
            continue;
        }

        key = p;

        while (p < eol && *p != '=' && !ca_text_space(*p)) {
            p++;
        }

        kend = p;

        while (p < eol && ca_text_space(*p)) {
            p++;
        }

        if (p == eol || *p != '=') {
            snprintf(err, errlen, "%s:%zu: expected \"key = text\"",
                     file, line);
            return -1;
        }

        id = ca_text_find(key, kend - key);
        if (id < 0) {
            snprintf(err, errlen, "%s:%zu: unknown text \"%.*s\"",
                     file, line, (int) (kend - key), key);
            return -1;
        }

        for (val = p + 1; val < eol && ca_text_space(*val); val++) {
            /* void */
        }

        for (vend = eol; vend > val && ca_text_space(vend[-1]); vend--) {
            /* void */
        }

        if (vend == val || vend - val > CA_TEXT_LEN_MAX) {
            snprintf(err, errlen, "%s:%zu: text \"%s\" is empty or longer "
                     "than %d bytes", file, line, ca_text_names[id],
                     CA_TEXT_LEN_MAX);
            return -1;
        }

        *vend = '\0';
        texts->t[id] = val;
    }

    return 0;
}


int
ca_texts_missing(const ca_texts_t *texts)
{
    int  i;

    for (i = 0; i < CA_T_COUNT; i++) {
        if (texts->t[i] == NULL) {
            return i;
        }
    }

    return -1;
}


size_t
ca_text_format(char *dst, size_t size, const char *text, const char *arg)
{
    size_t       pre, alen, rest, need;
    const char  *n;

    n = strstr(text, "{n}");

    if (n == NULL) {
        need = strlen(text);
        if (size) {
            snprintf(dst, size, "%s", text);
        }

        return need;
    }

    pre = n - text;
    alen = strlen(arg);
    rest = strlen(n + 3);
    need = pre + alen + rest;

    if (size) {
        snprintf(dst, size, "%.*s%s%s", (int) pre, text, arg, n + 3);
    }

    return need;
}


size_t
ca_text_duration(const ca_texts_t *texts, long seconds, char *dst,
    size_t size)
{
    long       n;
    char       num[24];
    ca_text_e  one, many;

    if (seconds < 1) {
        seconds = 1;
    }

    if (seconds < 60) {
        n = seconds;
        one = CA_T_SECOND;
        many = CA_T_SECONDS;

    } else if (seconds < 3600) {
        n = (seconds + 59) / 60;
        one = CA_T_MINUTE;
        many = CA_T_MINUTES;

    } else if (seconds < 86400) {
        n = (seconds + 3599) / 3600;
        one = CA_T_HOUR;
        many = CA_T_HOURS;

    } else {
        n = (seconds + 86399) / 86400;
        one = CA_T_DAY;
        many = CA_T_DAYS;
    }

    snprintf(num, sizeof(num), "%ld", n);

    return ca_text_format(dst, size, texts->t[n == 1 ? one : many], num);
}


int
ca_text_rule(unsigned rule)
{
    switch (rule) {
    case CA_RULE_TOO_SHORT:  return CA_T_RULE_TOO_SHORT;
    case CA_RULE_TOO_LONG:   return CA_T_RULE_TOO_LONG;
    case CA_RULE_NO_UPPER:   return CA_T_RULE_NO_UPPER;
    case CA_RULE_NO_LOWER:   return CA_T_RULE_NO_LOWER;
    case CA_RULE_NO_DIGIT:   return CA_T_RULE_NO_DIGIT;
    case CA_RULE_NO_SPECIAL: return CA_T_RULE_NO_SPECIAL;
    case CA_RULE_WHITESPACE: return CA_T_RULE_WHITESPACE;
    case CA_RULE_IDENTIFIER: return CA_T_RULE_IDENTIFIER;
    case CA_RULE_COMMON:     return CA_T_RULE_COMMON;
    case CA_RULE_REUSED:     return CA_T_RULE_REUSED;
    case CA_RULE_MISMATCH:   return CA_T_RULE_MISMATCH;
    case CA_RULE_INVALID:    return CA_T_RULE_INVALID;
    default:                 return -1;
    }
}
