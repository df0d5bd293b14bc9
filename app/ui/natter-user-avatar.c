/* natter-user-avatar.c: AdwAvatar + presence dot, following a NatterUser
 * live (the client interns users, so the dot changes as presence does). */
#define G_LOG_DOMAIN "natter-user-avatar"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "natter-application.h"
#include "natter-avatar-picture.h"
#include "natter-ui-util.h"
#include "natter-user-avatar.h"

struct _NatterUserAvatar
{
  GtkWidget   parent_instance;

  /* children */
  AdwAvatar  *avatar;
  GtkWidget  *dot;

  /* owned references */
  NatterUser *user;
  GBinding   *name_binding;
  gulong      presence_handler;
  gulong      picture_handler;
  GCancellable *picture_load;  /* the user's picture on its way */

  gboolean    show_presence;
};

G_DEFINE_FINAL_TYPE (NatterUserAvatar, natter_user_avatar, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_USER,
  PROP_SIZE,
  PROP_TEXT,
  PROP_SHOW_PRESENCE,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
update_presence (NatterUserAvatar *self)
{
  static const char *all[] = { "online", "away", "busy", "offline" };
  NatterPresence presence;
  g_autofree char *label = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    gtk_widget_remove_css_class (self->dot, all[i]);

  if (self->user == NULL)
    {
      gtk_widget_set_visible (self->dot, FALSE);
      return;
    }

  presence = natter_user_get_presence (self->user);
  gtk_widget_set_visible (self->dot, self->show_presence && natter_user_presence_is_known (self->user));
  gtk_widget_add_css_class (self->dot, natter_presence_css_class (presence));

  /* Screen readers hear the presence the dot shows by colour only. */
  if (natter_user_presence_is_known (self->user))
    label = g_strdup_printf ("%s, %s", natter_user_get_display_name (self->user),
                             natter_presence_label (presence));
  else
    label = g_strdup (natter_user_get_display_name (self->user));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
}

static void
presence_changed_cb (NatterUserAvatar *self)
{
  update_presence (self);
}

static void
picture_loaded_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(NatterUserAvatar) self = user_data;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  texture = natter_avatar_picture_load_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->picture_load);
  if (texture == NULL)
    {
      /* Initials stay: a picture that cannot be read is none. */
      g_debug ("No picture for %s: %s", self->user != NULL ? natter_user_get_username (self->user) : "?",
               error->message);
      return;
    }
  adw_avatar_set_custom_image (self->avatar, GDK_PAINTABLE (texture));
}

/* The user's picture, or the initials while there is none (or it is on
 * its way: decoded off the main loop). */
static void
update_picture (NatterUserAvatar *self)
{
  GApplication *app = g_application_get_default ();

  g_cancellable_cancel (self->picture_load);
  g_clear_object (&self->picture_load);
  adw_avatar_set_custom_image (self->avatar, NULL);
  if (self->user == NULL || natter_user_get_avatar (self->user) == NULL || !NATTER_IS_APPLICATION (app))
    return;
  self->picture_load = g_cancellable_new ();
  natter_avatar_picture_load_async (natter_application_get_client (NATTER_APPLICATION (app)), self->user,
                                    self->picture_load, picture_loaded_cb, g_object_ref (self));
}

void
natter_user_avatar_set_user (NatterUserAvatar *self,
                             NatterUser       *user)
{
  g_return_if_fail (NATTER_IS_USER_AVATAR (self));

  if (self->user == user)
    return;

  if (self->user != NULL)
    {
      g_clear_pointer (&self->name_binding, g_binding_unbind);
      g_clear_signal_handler (&self->presence_handler, self->user);
      g_clear_signal_handler (&self->picture_handler, self->user);
      g_clear_object (&self->user);
    }

  if (user != NULL)
    {
      self->user = g_object_ref (user);
      self->name_binding = g_object_bind_property (user, "display-name",
                                                   self->avatar, "text",
                                                   G_BINDING_SYNC_CREATE);
      /* Any change: the presence, or last_seen saying whether we may see it. */
      self->presence_handler = g_signal_connect_object (user, "notify",
                                                        G_CALLBACK (presence_changed_cb),
                                                        self, G_CONNECT_SWAPPED);
      self->picture_handler = g_signal_connect_object (user, "notify::avatar",
                                                       G_CALLBACK (update_picture),
                                                       self, G_CONNECT_SWAPPED);
    }

  update_presence (self);
  update_picture (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER]);
}

NatterUser *
natter_user_avatar_get_user (NatterUserAvatar *self)
{
  g_return_val_if_fail (NATTER_IS_USER_AVATAR (self), NULL);
  return self->user;
}

void
natter_user_avatar_set_text (NatterUserAvatar *self,
                             const char       *text)
{
  g_return_if_fail (NATTER_IS_USER_AVATAR (self));

  natter_user_avatar_set_user (self, NULL);
  /* Room names start with '#'; the initials come from the words after it. */
  if (text != NULL && text[0] == '#')
    text++;
  adw_avatar_set_text (self->avatar, text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, text ? text : "",
                                  -1);
}

static void
natter_user_avatar_dispose (GObject *object)
{
  NatterUserAvatar *self = NATTER_USER_AVATAR (object);
  GtkWidget *child;

  natter_user_avatar_set_user (self, NULL);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  self->avatar = NULL;
  self->dot = NULL;

  G_OBJECT_CLASS (natter_user_avatar_parent_class)->dispose (object);
}

static void
natter_user_avatar_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  NatterUserAvatar *self = NATTER_USER_AVATAR (object);

  switch (prop_id)
    {
    case PROP_USER:
      g_value_set_object (value, self->user);
      break;
    case PROP_SIZE:
      g_value_set_int (value, adw_avatar_get_size (self->avatar));
      break;
    case PROP_TEXT:
      g_value_set_string (value, adw_avatar_get_text (self->avatar));
      break;
    case PROP_SHOW_PRESENCE:
      g_value_set_boolean (value, self->show_presence);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_user_avatar_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  NatterUserAvatar *self = NATTER_USER_AVATAR (object);

  switch (prop_id)
    {
    case PROP_USER:
      natter_user_avatar_set_user (self, g_value_get_object (value));
      break;
    case PROP_SIZE:
      adw_avatar_set_size (self->avatar, g_value_get_int (value));
      /* A small avatar gets a small dot, or the dot hides the initials. */
      if (g_value_get_int (value) < 32)
        gtk_widget_add_css_class (GTK_WIDGET (self), "small");
      else
        gtk_widget_remove_css_class (GTK_WIDGET (self), "small");
      break;
    case PROP_SHOW_PRESENCE:
      self->show_presence = g_value_get_boolean (value);
      update_presence (self);
      break;
    case PROP_TEXT:
      natter_user_avatar_set_text (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_user_avatar_class_init (NatterUserAvatarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_user_avatar_dispose;
  object_class->get_property = natter_user_avatar_get_property;
  object_class->set_property = natter_user_avatar_set_property;

  properties[PROP_USER] =
    g_param_spec_object ("user", NULL, NULL, NATTER_TYPE_USER,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SIZE] =
    g_param_spec_int ("size", NULL, NULL, 8, 512, 36,
                      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_PRESENCE] =
    g_param_spec_boolean ("show-presence", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "user-avatar");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
natter_user_avatar_init (NatterUserAvatar *self)
{
  self->show_presence = TRUE;
  self->avatar = ADW_AVATAR (adw_avatar_new (36, NULL, TRUE));
  gtk_widget_set_parent (GTK_WIDGET (self->avatar), GTK_WIDGET (self));

  /* The bin layout gives both children the whole area; alignment puts the
   * dot in the bottom-right corner over the avatar. */
  self->dot = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (self->dot, "presence-dot");
  gtk_widget_set_halign (self->dot, GTK_ALIGN_END);
  gtk_widget_set_valign (self->dot, GTK_ALIGN_END);
  gtk_widget_set_can_target (self->dot, FALSE);
  gtk_widget_set_visible (self->dot, FALSE);
  gtk_widget_set_parent (self->dot, GTK_WIDGET (self));
}

GtkWidget *
natter_user_avatar_new (NatterUser *user,
                        int         size)
{
  return g_object_new (NATTER_TYPE_USER_AVATAR, "size", size, "user", user, NULL);
}
